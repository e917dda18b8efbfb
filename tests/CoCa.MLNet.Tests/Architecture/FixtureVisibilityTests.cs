namespace CoCa.MLNet.Tests.Architecture;

/// <summary>
/// Where CI says the fixtures are there (COCA_FIXTURES_REQUIRED=1), the test process must see them: one line naming the
/// path here, rather than a hundred parity tests that silently skip.
/// </summary>
public sealed class FixtureVisibilityTests
{
    [Fact]
    public void RequiredFixtures_AreVisibleToTheTestProcess()
    {
        if (!Fixtures.Required) return;
        Assert.True(Fixtures.Available, $"COCA_FIXTURES_REQUIRED=1 but {Fixtures.TinyCoCa} is not visible to the test process (repository root {Fixtures.RepoRoot})");
        Assert.True(CaptionFixture.Available, $"COCA_FIXTURES_REQUIRED=1 but {CaptionFixture.Folder} is not visible to the test process");
    }
}
