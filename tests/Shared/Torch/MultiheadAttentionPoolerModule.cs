using CoCa.MLNet.Pooling;
using CoCa.MLNet.Training;
using CoCa.MLNet.Training.Pooling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>
/// The textbook formulation of the same pooler, built on <c>torch.nn.MultiheadAttention</c>: every token goes through
/// the affine ln_k and is projected to a key and a value. It is the reference that <see cref="AttentionalPoolerModule"/>'s
/// reassociated attention is tested against, and the baseline of the pooler benchmark: test support, not shipped.
/// </summary>
internal sealed class MultiheadAttentionPoolerModule : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? frame_embedding;
    private readonly LayerNorm ln_k;
    private readonly Parameter query;
    private readonly MultiheadAttention attn;
    private readonly LayerNorm ln_post;
    private readonly Dropout dropout;
    private readonly Linear head;

    public MultiheadAttentionPoolerModule(AttentionalPoolerConfig config, double dropoutRate = 0.0) : base(nameof(MultiheadAttentionPoolerModule))
    {
        config.Validate();
        Config = config;
        long d = config.Dim;
        if (config.FrameEmbeddings)
        {
            using var scale = 0.02.ToScalar();
            frame_embedding = nn.Parameter(torch.randn(config.Frames, d).mul_(scale));
        }
        ln_k = nn.LayerNorm(d, config.LayerNormEpsilon);
        query = nn.Parameter(torch.randn(config.Queries, d));
        attn = nn.MultiheadAttention(d, config.Heads);
        ln_post = nn.LayerNorm(d, config.LayerNormEpsilon);
        dropout = nn.Dropout(dropoutRate);
        head = nn.Linear(d, config.Classes);
        RegisterComponents();
    }

    public AttentionalPoolerConfig Config { get; }

    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        return head.forward(dropout.forward(ln_post.forward(Pool(tokens)))).MoveToOuterDisposeScope();
    }

    /// <summary>Attention output averaged over the queries, [B, D].</summary>
    public Tensor Pool(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        long b = tokens.shape[0], d = Config.Dim;
        var x = ln_k.forward(tokens);
        if (frame_embedding is not null)
            x = TorchScalars.Add(x.view(b, Config.Frames, Config.TokensPerFrame, d), frame_embedding.unsqueeze(1)).view(b, Config.Tokens, d);
        var kv = x.transpose(0, 1);                                   // [N, B, D]: MultiheadAttention is sequence-first
        var q = query.unsqueeze(1).expand(Config.Queries, b, d);      // [Q, B, D]
        var (output, _) = attn.forward(q, kv, kv, null, false, null);
        return output.mean([0]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Takes the weights of <paramref name="weights"/>; <paramref name="keyBias"/> (length D, default zero) fills the key
    /// projection bias that the reassociated pooler does not have, to show that it does not matter.
    /// </summary>
    public void LoadWeights(AttentionalPoolerWeights weights, float[]? keyBias = null)
    {
        using var _ = torch.no_grad();
        var p = named_parameters().ToDictionary(t => t.name, t => t.parameter);
        var w = weights.Tensors;
        void Set(string name, float[] data) => p[name].copy_(torch.tensor(data, p[name].shape));
        if (frame_embedding is not null) Set("frame_embedding", w[AttentionalPoolerWeights.FrameEmbeddingName]);
        Set("ln_k.weight", w[AttentionalPoolerWeights.TokenNormWeightName]);
        Set("ln_k.bias", w[AttentionalPoolerWeights.TokenNormBiasName]);
        Set("query", w[AttentionalPoolerWeights.QueryName]);
        Set("attn.in_proj_weight", [.. w[AttentionalPoolerWeights.QueryProjWeightName], .. w[AttentionalPoolerWeights.KeyProjWeightName], .. w[AttentionalPoolerWeights.ValueProjWeightName]]);
        Set("attn.in_proj_bias", [.. w[AttentionalPoolerWeights.QueryProjBiasName], .. keyBias ?? new float[Config.Dim], .. w[AttentionalPoolerWeights.ValueProjBiasName]]);
        Set("attn.out_proj.weight", w[AttentionalPoolerWeights.OutProjWeightName]);
        Set("attn.out_proj.bias", w[AttentionalPoolerWeights.OutProjBiasName]);
        Set("ln_post.weight", w[AttentionalPoolerWeights.PostNormWeightName]);
        Set("ln_post.bias", w[AttentionalPoolerWeights.PostNormBiasName]);
        Set("head.weight", w[AttentionalPoolerWeights.HeadWeightName]);
        Set("head.bias", w[AttentionalPoolerWeights.HeadBiasName]);
    }

    /// <summary>
    /// The gradients of the last backward pass under the names of <see cref="AttentionalPoolerWeights"/> (the fused
    /// input projection split into q/k/v), plus "k_proj.bias".
    /// </summary>
    public Dictionary<string, double[]> GradientsByPoolerName()
    {
        var g = named_parameters().ToDictionary(t => t.name, t => t.parameter.grad?.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray() ?? new double[t.parameter.numel()]);
        int d = Config.Dim, dd = d * d;
        var result = new Dictionary<string, double[]>(StringComparer.Ordinal)
        {
            [AttentionalPoolerWeights.TokenNormWeightName] = g["ln_k.weight"],
            [AttentionalPoolerWeights.TokenNormBiasName] = g["ln_k.bias"],
            [AttentionalPoolerWeights.QueryName] = g["query"],
            [AttentionalPoolerWeights.QueryProjWeightName] = g["attn.in_proj_weight"][..dd],
            [AttentionalPoolerWeights.KeyProjWeightName] = g["attn.in_proj_weight"][dd..(2 * dd)],
            [AttentionalPoolerWeights.ValueProjWeightName] = g["attn.in_proj_weight"][(2 * dd)..],
            [AttentionalPoolerWeights.QueryProjBiasName] = g["attn.in_proj_bias"][..d],
            ["k_proj.bias"] = g["attn.in_proj_bias"][d..(2 * d)],
            [AttentionalPoolerWeights.ValueProjBiasName] = g["attn.in_proj_bias"][(2 * d)..],
            [AttentionalPoolerWeights.OutProjWeightName] = g["attn.out_proj.weight"],
            [AttentionalPoolerWeights.OutProjBiasName] = g["attn.out_proj.bias"],
            [AttentionalPoolerWeights.PostNormWeightName] = g["ln_post.weight"],
            [AttentionalPoolerWeights.PostNormBiasName] = g["ln_post.bias"],
            [AttentionalPoolerWeights.HeadWeightName] = g["head.weight"],
            [AttentionalPoolerWeights.HeadBiasName] = g["head.bias"],
        };
        if (frame_embedding is not null) result[AttentionalPoolerWeights.FrameEmbeddingName] = g["frame_embedding"];
        return result;
    }
}
