using CoCa.MLNet.Checkpoints;

namespace CoCa.MLNet.Pooling;

/// <summary>
/// The trained parameters of an attentional pooler and its classifier, as plain float arrays (row-major; linear weights
/// are [out, in] like PyTorch). The same numbers feed the TorchSharp module, the ONNX graph and the model package.
/// </summary>
/// <remarks>
/// There is no key-projection bias: q·(W_k x + b_k) differs from q·W_k x by a constant over the tokens, which cancels in
/// the attention softmax.
/// </remarks>
internal sealed class AttentionalPoolerWeights
{
    private readonly Dictionary<string, float[]> _tensors;

    public AttentionalPoolerWeights(AttentionalPoolerConfig config, IReadOnlyDictionary<string, float[]> tensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tensors);
        config.Validate();
        Config = config;
        _tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in Layout(config))
        {
            if (!tensors.TryGetValue(name, out var data))
                throw new ArgumentException($"Pooler weights lack tensor '{name}' (shape {string.Join("x", shape)}).");
            long expected = shape.Aggregate(1L, (a, b) => a * b);
            if (data.Length != expected)
                throw new ArgumentException($"Pooler weight '{name}' has {data.Length} values; shape {string.Join("x", shape)} needs {expected}.");
            _tensors[name] = data;
        }
        var unknown = tensors.Keys.Except(_tensors.Keys).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Pooler weights have tensors this configuration does not use: {string.Join(", ", unknown)}.");
    }

    public AttentionalPoolerConfig Config { get; }

    public const string FrameEmbeddingName = "frame_embedding";
    public const string TokenNormWeightName = "ln_k.weight";
    public const string TokenNormBiasName = "ln_k.bias";
    public const string QueryName = "query";
    public const string QueryProjWeightName = "q_proj.weight";
    public const string QueryProjBiasName = "q_proj.bias";
    public const string KeyProjWeightName = "k_proj.weight";
    public const string ValueProjWeightName = "v_proj.weight";
    public const string ValueProjBiasName = "v_proj.bias";
    public const string OutProjWeightName = "out_proj.weight";
    public const string OutProjBiasName = "out_proj.bias";
    public const string PostNormWeightName = "ln_post.weight";
    public const string PostNormBiasName = "ln_post.bias";
    public const string HeadWeightName = "head.weight";
    public const string HeadBiasName = "head.bias";

    /// <summary>[F, D], added to every token of frame f; null without frame embeddings.</summary>
    public float[]? FrameEmbedding => _tensors.GetValueOrDefault(FrameEmbeddingName);
    public float[] TokenNormWeight => _tensors[TokenNormWeightName];
    public float[] TokenNormBias => _tensors[TokenNormBiasName];
    /// <summary>[Q, D].</summary>
    public float[] Query => _tensors[QueryName];
    public float[] QueryProjWeight => _tensors[QueryProjWeightName];
    public float[] QueryProjBias => _tensors[QueryProjBiasName];
    public float[] KeyProjWeight => _tensors[KeyProjWeightName];
    public float[] ValueProjWeight => _tensors[ValueProjWeightName];
    public float[] ValueProjBias => _tensors[ValueProjBiasName];
    public float[] OutProjWeight => _tensors[OutProjWeightName];
    public float[] OutProjBias => _tensors[OutProjBiasName];
    public float[] PostNormWeight => _tensors[PostNormWeightName];
    public float[] PostNormBias => _tensors[PostNormBiasName];
    /// <summary>[K, D].</summary>
    public float[] HeadWeight => _tensors[HeadWeightName];
    public float[] HeadBias => _tensors[HeadBiasName];

    public IReadOnlyDictionary<string, float[]> Tensors => _tensors;

    /// <summary>Every tensor of a pooler with <paramref name="config"/>: name and shape, in a fixed order.</summary>
    public static IReadOnlyList<(string Name, int[] Shape)> Layout(AttentionalPoolerConfig config)
    {
        int d = config.Dim;
        var list = new List<(string, int[])>();
        if (config.FrameEmbeddings) list.Add((FrameEmbeddingName, [config.Frames, d]));
        list.Add((TokenNormWeightName, [d]));
        list.Add((TokenNormBiasName, [d]));
        list.Add((QueryName, [config.Queries, d]));
        list.Add((QueryProjWeightName, [d, d]));
        list.Add((QueryProjBiasName, [d]));
        list.Add((KeyProjWeightName, [d, d]));
        list.Add((ValueProjWeightName, [d, d]));
        list.Add((ValueProjBiasName, [d]));
        list.Add((OutProjWeightName, [d, d]));
        list.Add((OutProjBiasName, [d]));
        list.Add((PostNormWeightName, [d]));
        list.Add((PostNormBiasName, [d]));
        list.Add((HeadWeightName, [config.Classes, d]));
        list.Add((HeadBiasName, [config.Classes]));
        return list;
    }

    /// <summary>Writes the tensors as a float32 .safetensors file (read back with <see cref="ReadSafetensors"/>).</summary>
    public void WriteSafetensors(Stream stream) =>
        SafetensorsWriter.Write(stream, Layout(Config).Select(t => new CheckpointTensor(t.Name, t.Shape.Select(d => (long)d).ToArray(), _tensors[t.Name])));

    /// <summary>Reads tensors written by <see cref="WriteSafetensors"/> for a pooler of <paramref name="config"/>.</summary>
    public static AttentionalPoolerWeights ReadSafetensors(AttentionalPoolerConfig config, Stream stream, string source)
    {
        var dict = SafetensorsReader.Read(stream, source);
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in Layout(config))
            tensors[name] = dict.Get(name, shape.Select(s => (long)s).ToArray()).Data;
        return new AttentionalPoolerWeights(config, tensors);
    }
}
