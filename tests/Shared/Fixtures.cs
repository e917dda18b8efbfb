namespace CoCa.MLNet.Tests.Shared;

/// <summary>Locates the repository and the reference fixtures in <c>../shared/fixtures</c> beside it.</summary>
public static class Fixtures
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary><c>../shared/fixtures</c> relative to the repository root, or COCA_FIXTURES when set.</summary>
    public static string Root { get; } = Environment.GetEnvironmentVariable("COCA_FIXTURES")
        ?? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures"));

    public static string TinyCoCa => Path.Combine(Root, "open_clip_coca_tiny");
    public static string ClipBpe => Path.Combine(Root, "clip_bpe", "bpe_simple_vocab_16e6.txt.gz");

    public static bool Available => Directory.Exists(TinyCoCa);

    /// <summary>
    /// COCA_FIXTURES_REQUIRED=1 (set by .ci/run when ../shared/fixtures exists): fixture tests run and fail instead of
    /// skipping, so fixtures that exist but are not visible to the test process cannot turn parity tests into skips.
    /// </summary>
    public static bool Required => Environment.GetEnvironmentVariable("COCA_FIXTURES_REQUIRED") == "1";

    /// <summary>The skip reason for a test that needs <paramref name="folder"/>, or null when it runs.</summary>
    public static string? SkipUnless(bool available, string folder) =>
        available || Required ? null : $"reference fixtures not found at {folder} (../shared beside the repository is absent)";

    public static string? SkipReason => SkipUnless(Available, TinyCoCa);

    public static string Tiny(string relative) => Path.Combine(TinyCoCa, relative);

    /// <summary>Relative error ‖a−b‖/‖b‖.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - expected[i];
            num += d * d;
            den += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(num) / Math.Max(Math.Sqrt(den), 1e-30);
    }

    /// <summary>Asserts ‖Δ‖/‖ref‖ ≤ tolerance for each of <paramref name="rows"/> consecutive rows.</summary>
    public static void AssertRowsClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int rows, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int n = expected.Length / rows;
        for (int r = 0; r < rows; r++)
        {
            var err = RelativeError(actual.Slice(r * n, n), expected.Slice(r * n, n));
            Assert.True(err <= tolerance, $"{what}: row {r} relative error {err:E3} > {tolerance:E1}");
        }
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CoCa.MLNet.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("CoCa.MLNet.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that needs ../shared/fixtures; skipped, with the reason, where it is absent.</summary>
public sealed class FixtureFactAttribute : FactAttribute
{
    public FixtureFactAttribute()
    {
        Skip = Fixtures.SkipReason;
    }
}

/// <summary>A theory that needs ../shared/fixtures; skipped, with the reason, where it is absent.</summary>
public sealed class FixtureTheoryAttribute : TheoryAttribute
{
    public FixtureTheoryAttribute()
    {
        Skip = Fixtures.SkipReason;
    }
}
