using CoCa.MLNet.Pooling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// The attentional pooler and classifier trained over frozen tokens (TorchSharp).
/// tokens [B, F·T, D] → LayerNorm (ln_k) → + frame embedding of each token's frame → multi-head attention from
/// Q learnable queries (q/k/v/out projections) → mean over queries → LayerNorm (ln_post) → dropout → Linear(D, K).
/// </summary>
/// <remarks>
/// The frame embedding is added after ln_k, in the normalised token space: there its scale does not depend on the
/// encoder's token norms, and ln_k's normalisation touches only the frozen input, so it needs no backward pass.
/// With few queries, attention is computed without projecting every token (see <see cref="PoolReassociated"/>).
/// </remarks>
internal sealed class AttentionalPoolerModule : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? frame_embedding;
    private readonly Parameter ln_k_weight;
    private readonly Parameter ln_k_bias;
    private readonly Parameter query;
    private readonly Linear q_proj;
    private readonly Parameter k_proj_weight;
    private readonly Linear v_proj;
    private readonly Linear out_proj;
    private readonly LayerNorm ln_post;
    private readonly Linear head;
    private readonly double _dropout;
    private readonly Generator? _generator;

    /// <param name="config">Shape of the pooler.</param>
    /// <param name="dropout">Dropout rate before the classifier.</param>
    /// <param name="generator">
    /// Random source of the initial weights and of dropout; a private generator keeps training bit-reproducible even
    /// while other code uses torch's global one. Null: the global generator.
    /// </param>
    public AttentionalPoolerModule(AttentionalPoolerConfig config, double dropout = 0.0, Generator? generator = null) : base(nameof(AttentionalPoolerModule))
    {
        config.Validate();
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout must be in [0, 1).");
        Config = config;
        _dropout = dropout;
        _generator = generator;
        long d = config.Dim;
        if (config.FrameEmbeddings)
        {
            using var scale = 0.02.ToScalar();
            frame_embedding = nn.Parameter(torch.randn([config.Frames, d], generator: generator).mul_(scale));
        }
        ln_k_weight = nn.Parameter(torch.ones(d));
        ln_k_bias = nn.Parameter(torch.zeros(d));
        // Unit-variance queries give attention logits of std ≈ 0.5 at initialisation (xavier projections, unit-variance
        // normalised tokens): a soft, trainable start.
        query = nn.Parameter(torch.randn([config.Queries, d], generator: generator));
        q_proj = nn.Linear(d, d);
        k_proj_weight = nn.Parameter(torch.empty(d, d));
        v_proj = nn.Linear(d, d);
        out_proj = nn.Linear(d, d);
        ln_post = nn.LayerNorm(d, config.LayerNormEpsilon);
        head = nn.Linear(d, config.Classes);
        using (torch.no_grad())
        {
            // As torch.nn.MultiheadAttention: xavier-uniform input projections, zero biases, out_proj's weight as
            // nn.Linear's; the head as nn.Linear. Drawn here from the generator.
            double xavier = Math.Sqrt(6.0 / (d + d)), linear = 1.0 / Math.Sqrt(d);
            foreach (var w in new[] { q_proj.weight!, k_proj_weight, v_proj.weight! })
                w.uniform_(-xavier, xavier, generator);
            q_proj.bias!.zero_();
            v_proj.bias!.zero_();
            out_proj.weight!.uniform_(-linear, linear, generator);
            out_proj.bias!.zero_();
            head.weight!.uniform_(-linear, linear, generator);
            head.bias!.uniform_(-linear, linear, generator);
        }
        RegisterComponents();
    }

    public AttentionalPoolerConfig Config { get; }

    /// <summary>Null: reassociate whenever cheaper (<see cref="AttentionalPoolerConfig.ReassociationIsCheaper"/>).</summary>
    public bool? UseReassociation { get; set; }

    /// <summary>Class logits [B, K] for tokens [B, F·T, D].</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        return Classify(Pool(tokens)).MoveToOuterDisposeScope();
    }

    /// <summary>The pooled representation [B, D]: the attention output averaged over the queries.</summary>
    public Tensor Pool(Tensor tokens)
    {
        CheckTokens(tokens);
        using var scope = NewDisposeScope();
        // ln_k without its affine part: over frozen tokens a function of the input alone, so autograd records nothing
        // here; when the encoder trains with the pooler (fine-tuning), its gradient flows through.
        Tensor normalized;
        if (tokens.requires_grad)
            normalized = nn.functional.layer_norm(tokens, [Config.Dim], null, null, Config.LayerNormEpsilon);
        else
            using (torch.no_grad())
                normalized = nn.functional.layer_norm(tokens, [Config.Dim], null, null, Config.LayerNormEpsilon);
        var attended = UseReassociation ?? Config.ReassociationIsCheaper
            ? PoolReassociated(normalized)
            : PoolProjected(normalized);
        return MixedPrecision.Widen(MixedPrecision.Linear(out_proj, attended)).mean([1]).MoveToOuterDisposeScope();
    }

    /// <summary>ln_post → dropout (while training) → head.</summary>
    public Tensor Classify(Tensor pooled)
    {
        using var scope = NewDisposeScope();
        var h = ln_post.forward(pooled);
        if (training && _dropout > 0)
        {
            // Drawn on the CPU, where the generator lives, so a CUDA run draws the same masks.
            using var rate = _dropout.ToScalar();
            using var keepFraction = (1 - _dropout).ToScalar();
            using var keep = torch.rand(h.shape, generator: _generator).ge(rate).to(h.device);
            h = h.mul(keep).div(keepFraction);
        }
        return MixedPrecision.Widen(MixedPrecision.Linear(head, h)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attention output before out_proj, [B, Q, D], computed on the normalised tokens n_t without projecting them.
    /// With x_t = γ⊙n_t + β + e_f(t) (ln_k affine and frame embedding), per head h and query q:
    /// logit_t = q_h·W_k,h x_t /√d_h = n_t·(γ⊙u) + e_f(t)·u + const, with u = W_k,hᵀ q_h /√d_h (the constant β·u, like the
    /// key bias, cancels in the softmax); and Σ_t a_t W_v,h x_t + b_v,h = W_v,h z + b_v,h with
    /// z = γ⊙(Σ_t a_t n_t) + β + Σ_f (Σ_{t∈f} a_t) e_f. Per token this costs O(H·Q·D) instead of O(D²).
    /// </summary>
    public Tensor PoolReassociated(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var (b, h, qn, d, dh) = (normalized.shape[0], (long)Config.Heads, (long)Config.Queries, (long)Config.Dim, (long)Config.HeadDim);
        long hq = h * qn;

        var q = MixedPrecision.Linear(q_proj, query).view(qn, h, dh).transpose(0, 1);  // [H, Q, dh]
        using var scale = (1.0 / Math.Sqrt(dh)).ToScalar();
        var u = MixedPrecision.MatMul(q, k_proj_weight.view(h, dh, d)).mul(scale);    // [H, Q, D]
        u = u.reshape(hq, d);                                                          // [HQ, D]

        var logits = MixedPrecision.MatMul(normalized, (u * ln_k_weight).t());        // [B, N, HQ]
        if (frame_embedding is not null)
        {
            var frameBias = MixedPrecision.MatMul(frame_embedding, u.t());             // [F, HQ]
            logits = TorchScalars.Add(logits.view(b, Config.Frames, Config.TokensPerFrame, hq), frameBias.unsqueeze(1)).view(b, Config.Tokens, hq);
        }
        var weights = MixedPrecision.Widen(logits).softmax(1);                       // [B, N, HQ]

        var z = TorchScalars.Add(MixedPrecision.MatMul(weights.transpose(1, 2), normalized) * ln_k_weight, ln_k_bias);   // [B, HQ, D]
        if (frame_embedding is not null)
        {
            var perFrame = weights.view(b, Config.Frames, Config.TokensPerFrame, hq).sum(2); // [B, F, HQ]
            z = TorchScalars.Add(z, MixedPrecision.MatMul(perFrame.transpose(1, 2), frame_embedding));
        }

        // v = W_v,h z + b_v,h for each head on its own z, as one batched matmul over the heads:
        // [H, B·Q, D] x [H, D, dh] → [H, B·Q, dh]. (A broadcast [B, H, Q, D] x [H, D, dh] matmul would materialise
        // W_v once per example, forward and backward.)
        var wv = v_proj.weight!.view(h, dh, d).transpose(1, 2);
        var zh = z.view(b, h, qn, d).transpose(0, 1).reshape(h, b * qn, d);
        var v = TorchScalars.Add(MixedPrecision.Bmm(zh, wv), v_proj.bias!.view(h, 1, dh)); // [H, B·Q, dh]
        return v.view(h, b, qn, dh).permute(1, 2, 0, 3).reshape(b, qn, d).MoveToOuterDisposeScope();   // [B, Q, D]
    }

    /// <summary>The same attention output [B, Q, D] computed the usual way: every token projected to a key and a value.</summary>
    public Tensor PoolProjected(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var (b, h, qn, d, dh) = (normalized.shape[0], (long)Config.Heads, (long)Config.Queries, (long)Config.Dim, (long)Config.HeadDim);
        var x = TorchScalars.Add(normalized * ln_k_weight, ln_k_bias);
        if (frame_embedding is not null)
            x = TorchScalars.Add(x.view(b, Config.Frames, Config.TokensPerFrame, d), frame_embedding.unsqueeze(1)).view(b, Config.Tokens, d);
        var n = x.shape[1];
        var q = MixedPrecision.Linear(q_proj, query).view(1, qn, h, dh).transpose(1, 2);  // [1, H, Q, dh]
        var k = MixedPrecision.MatMul(x, k_proj_weight.t()).view(b, n, h, dh).transpose(1, 2);  // [B, H, N, dh]
        var v = MixedPrecision.Linear(v_proj, x).view(b, n, h, dh).transpose(1, 2);      // [B, H, N, dh]
        using var scale = (1.0 / Math.Sqrt(dh)).ToScalar();
        var a = MixedPrecision.Widen(MixedPrecision.MatMul(q, k.transpose(2, 3)).mul(scale)).softmax(-1);   // [B, H, Q, N]
        return MixedPrecision.MatMul(a, v).transpose(1, 2).reshape(b, qn, d).MoveToOuterDisposeScope();
    }

    private void CheckTokens(Tensor tokens)
    {
        if (tokens.ndim != 3 || tokens.shape[1] != Config.Tokens || tokens.shape[2] != Config.Dim)
            throw new ArgumentException($"Pooler input must be [batch, {Config.Tokens}, {Config.Dim}] (F·T tokens of width D), got [{string.Join(", ", tokens.shape)}].");
    }

    /// <summary>The parameters as plain arrays, for ONNX export, packaging and <see cref="LoadWeights"/>.</summary>
    public AttentionalPoolerWeights ExportWeights()
    {
        var dict = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, tensor) in NamedTensors())
            dict[name] = tensor.detach().cpu().contiguous().data<float>().ToArray();
        return new AttentionalPoolerWeights(Config, dict);
    }

    /// <summary>Copies <paramref name="weights"/> (same config) into the parameters.</summary>
    public void LoadWeights(AttentionalPoolerWeights weights)
    {
        if (weights.Config != Config)
            throw new ArgumentException($"Weights are for pooler {weights.Config}, this module is {Config}.");
        using var _ = torch.no_grad();
        foreach (var (name, tensor) in NamedTensors())
        {
            using var src = torch.tensor(weights.Tensors[name], tensor.shape);
            tensor.copy_(src);
        }
    }

    /// <summary>Parameters under the names of <see cref="AttentionalPoolerWeights"/>.</summary>
    public IEnumerable<(string Name, Parameter Tensor)> NamedTensors()
    {
        if (frame_embedding is not null) yield return (AttentionalPoolerWeights.FrameEmbeddingName, frame_embedding);
        yield return (AttentionalPoolerWeights.TokenNormWeightName, ln_k_weight);
        yield return (AttentionalPoolerWeights.TokenNormBiasName, ln_k_bias);
        yield return (AttentionalPoolerWeights.QueryName, query);
        yield return (AttentionalPoolerWeights.QueryProjWeightName, q_proj.weight!);
        yield return (AttentionalPoolerWeights.QueryProjBiasName, q_proj.bias!);
        yield return (AttentionalPoolerWeights.KeyProjWeightName, k_proj_weight);
        yield return (AttentionalPoolerWeights.ValueProjWeightName, v_proj.weight!);
        yield return (AttentionalPoolerWeights.ValueProjBiasName, v_proj.bias!);
        yield return (AttentionalPoolerWeights.OutProjWeightName, out_proj.weight!);
        yield return (AttentionalPoolerWeights.OutProjBiasName, out_proj.bias!);
        yield return (AttentionalPoolerWeights.PostNormWeightName, ln_post.weight!);
        yield return (AttentionalPoolerWeights.PostNormBiasName, ln_post.bias!);
        yield return (AttentionalPoolerWeights.HeadWeightName, head.weight!);
        yield return (AttentionalPoolerWeights.HeadBiasName, head.bias!);
    }
}
