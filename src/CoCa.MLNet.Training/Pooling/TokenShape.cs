namespace CoCa.MLNet.Training.Pooling;

/// <summary>The token layout of one example: F frames × T tokens × D values (F = 1 for images).</summary>
internal readonly record struct TokenShape(int Frames, int TokensPerFrame, int Dim)
{
    public int Tokens => Frames * TokensPerFrame;

    /// <summary>Values per example: F·T·D.</summary>
    public int RowLength => Frames * TokensPerFrame * Dim;

    public override string ToString() => Frames == 1 ? $"[{TokensPerFrame}, {Dim}]" : $"[{Frames}, {TokensPerFrame}, {Dim}]";
}
