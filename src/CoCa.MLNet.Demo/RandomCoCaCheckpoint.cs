using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Demo;

/// <summary>
/// Deterministic random CoCa weights with exactly open_clip's keys and shapes (<c>visual.*</c>, optionally <c>text.*</c>
/// and the captioning decoder <c>text_decoder.*</c>, and <c>logit_scale</c>), for tests and for trying the pipeline without a download.
/// Scales follow open_clip's initialisation (embeddings width^-½, text token embedding 0.02, attention/MLP weights
/// width^-½ with the depth-scaled output projections, pooler queries std 1, logit_scale ln(1/0.07)). Unlike open_clip,
/// biases are small random values and LayerNorm weights are 1 ± small noise, so that a swapped or dropped bias or
/// norm parameter changes the outputs and a test can catch it.
/// Every tensor has its own random stream derived from (seed, key), so the values are identical across runs,
/// platforms and thread schedules, and do not depend on which other tensors are created.
/// </summary>
internal static class RandomCoCaCheckpoint
{
    private const double BiasStd = 0.02;
    private const double NormWeightNoise = 0.05;
    private const float LogitScaleInit = 2.6592600369262695f; // ln(1 / 0.07), open_clip's init

    /// <summary>The keys and shapes <see cref="Create"/> makes, without allocating any data (e.g. to count parameters).</summary>
    public static IReadOnlyList<TensorSpec> Shapes(CoCaModelConfig config, bool includeText = true, bool includeDecoder = false) =>
        CoCaStateDictLayout.All(config, includeText, includeDecoder);

    /// <remarks><paramref name="includeDecoder"/>: also the captioning decoder, <c>text_decoder.*</c> (for captioning).</remarks>
    public static StateDict Create(CoCaModelConfig config, int seed, bool includeText = true, bool includeDecoder = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        var specs = Shapes(config, includeText, includeDecoder);
        var tensors = new CheckpointTensor[specs.Count];
        Parallel.For(0, specs.Count, i => tensors[i] = CreateTensor(config, specs[i], seed));
        return new StateDict(tensors, $"random {config.Name} checkpoint (seed {seed})");
    }

    private static CheckpointTensor CreateTensor(CoCaModelConfig config, TensorSpec spec, int seed)
    {
        var data = new float[spec.ElementCount];
        if (spec.Name == CoCaStateDictLayout.LogitScale)
        {
            data.AsSpan().Fill(LogitScaleInit);
        }
        else
        {
            var (mean, std) = Init(config, spec.Name);
            var random = DeterministicRandom.ForStream(seed, spec.Name);
            for (int i = 0; i < data.Length; i++) data[i] = (float)(mean + std * random.NextStandardNormal());
        }
        return new CheckpointTensor(spec.Name, spec.Shape, data);
    }

    /// <summary>(mean, std) for a key, after open_clip's VisionTransformer / TextTransformer / AttentionalPooler init.</summary>
    private static (double Mean, double Std) Init(CoCaModelConfig config, string name)
    {
        bool text = name.StartsWith("text.", StringComparison.Ordinal);
        bool decoder = name.StartsWith("text_decoder.", StringComparison.Ordinal);
        double width = decoder ? config.Multimodal.Width : text ? config.Text.Width : config.Vision.Width;
        double layers = decoder ? config.Multimodal.Layers : text ? config.Text.Layers : config.Vision.Layers;
        double embed = config.EmbedDim;
        double attnStd = 1.0 / Math.Sqrt(width);
        double projStd = attnStd / Math.Sqrt(2.0 * layers);

        if (IsNorm(name)) return name.EndsWith(".weight", StringComparison.Ordinal) ? (1.0, NormWeightNoise) : (0.0, BiasStd);
        if (name.EndsWith("bias", StringComparison.Ordinal)) return (0.0, BiasStd);
        if (name.Contains(".attn_pool.", StringComparison.Ordinal))
            return name.EndsWith(".query", StringComparison.Ordinal) ? (0.0, 1.0) : (0.0, 1.0 / Math.Sqrt(embed));
        if (name.EndsWith("attn.in_proj_weight", StringComparison.Ordinal)) return (0.0, attnStd);
        if (name.EndsWith("attn.out_proj.weight", StringComparison.Ordinal)) return (0.0, projStd);
        if (name.EndsWith("mlp.c_fc.weight", StringComparison.Ordinal)) return (0.0, 1.0 / Math.Sqrt(2.0 * width));
        if (name.EndsWith("mlp.c_proj.weight", StringComparison.Ordinal)) return (0.0, projStd);
        return name switch
        {
            "visual.conv1.weight" => (0.0, 1.0 / Math.Sqrt(3.0 * config.Vision.PatchSize * config.Vision.PatchSize)),
            "visual.class_embedding" or "visual.positional_embedding" => (0.0, attnStd),
            "visual.proj" => (0.0, 1.0 / Math.Sqrt(embed)),
            "text.token_embedding.weight" => (0.0, 0.02),
            "text.positional_embedding" or "text.cls_emb" => (0.0, 0.01),
            "text.text_projection" or "text_decoder.text_projection" => (0.0, attnStd),
            _ => throw new InvalidOperationException($"No initialiser for '{name}'."),
        };
    }

    private static bool IsNorm(string name)
    {
        int dot = name.LastIndexOf('.');
        int start = name.LastIndexOf('.', dot - 1) + 1;
        return name.AsSpan(start, dot - start).StartsWith("ln_", StringComparison.Ordinal);
    }
}
