namespace CoCa.MLNet.Pooling;

/// <summary>
/// The shape of an attentional pooler over frozen tokens: <see cref="Frames"/> × <see cref="TokensPerFrame"/> tokens of
/// width <see cref="Dim"/> (one frame for images), <see cref="Queries"/> learnable queries attending with
/// <see cref="Heads"/> heads, and a linear classifier over <see cref="Classes"/> classes.
/// </summary>
internal sealed record AttentionalPoolerConfig
{
    /// <summary>F: frames per example (1 for images).</summary>
    public int Frames { get; init; } = 1;

    /// <summary>T: tokens per frame.</summary>
    public int TokensPerFrame { get; init; }

    /// <summary>D: token width.</summary>
    public int Dim { get; init; }

    /// <summary>Attention heads; must divide <see cref="Dim"/>.</summary>
    public int Heads { get; init; } = 1;

    /// <summary>Learnable queries; the classifier sees their mean.</summary>
    public int Queries { get; init; } = 1;

    /// <summary>K: classes.</summary>
    public int Classes { get; init; }

    /// <summary>Whether a learned embedding is added to every token of a frame (needed to tell frame order apart).</summary>
    public bool FrameEmbeddings { get; init; }

    public float LayerNormEpsilon { get; init; } = 1e-5f;

    /// <summary>N = F·T: all tokens of an example, pooled together.</summary>
    public int Tokens => Frames * TokensPerFrame;

    public int HeadDim => Dim / Heads;

    /// <summary>The default head count: D/64 (at least 1), lowered until it divides D.</summary>
    public static int DefaultHeads(int dim)
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "Token width must be positive.");
        int h = Math.Max(1, dim / 64);
        while (dim % h != 0) h--;
        return h;
    }

    /// <summary>
    /// Whether attention is cheaper computed on the raw tokens (q·W_k x = (W_kᵀq)·x, Σ a W_v x = W_v Σ a x) than by
    /// projecting every token to keys and values: per token the first costs about 2·H·Q·D, the second 2·D².
    /// </summary>
    public bool ReassociationIsCheaper => (long)Heads * Queries < Dim;

    public void Validate()
    {
        if (Frames < 1) throw new ArgumentException($"Pooler config: Frames must be ≥ 1, got {Frames}.");
        if (TokensPerFrame < 1) throw new ArgumentException($"Pooler config: TokensPerFrame must be ≥ 1, got {TokensPerFrame}.");
        if (Dim < 1) throw new ArgumentException($"Pooler config: Dim must be ≥ 1, got {Dim}.");
        if (Heads < 1 || Dim % Heads != 0) throw new ArgumentException($"Pooler config: Heads ({Heads}) must be ≥ 1 and divide the token width {Dim}.");
        if (Queries < 1) throw new ArgumentException($"Pooler config: Queries must be ≥ 1, got {Queries}.");
        if (Classes < 2) throw new ArgumentException($"Pooler config: Classes must be ≥ 2, got {Classes}.");
        if (FrameEmbeddings && Frames < 2) throw new ArgumentException("Pooler config: frame embeddings need at least 2 frames.");
        if (!(LayerNormEpsilon > 0)) throw new ArgumentException($"Pooler config: LayerNormEpsilon must be > 0, got {LayerNormEpsilon}.");
    }
}
