using CoCa.MLNet.Transforms;
using Microsoft.ML;

namespace CoCa.MLNet.Tests.Transforms;

public class CatalogEnvironmentTests
{
    [Fact]
    public void FindsTheMLContextBehindEveryCatalogWeExtend()
    {
        var ml = new MLContext(seed: 1);
        var env = CatalogEnvironment.Get(ml.Transforms);
        Assert.Same(env, CatalogEnvironment.Get(ml.Model));
        Assert.Same(env, CatalogEnvironment.Get(ml.MulticlassClassification.Trainers));
        Assert.Same(env, CatalogEnvironment.Get(ml.MulticlassClassification));

        // Messages logged through it reach the user's MLContext.Log.
        var seen = new List<string>();
        ml.Log += (_, e) => seen.Add(e.Message);
        using (var ch = env.Register("CoCaTest").Start("probe"))
            CatalogEnvironment.Info(ch, "hello from CoCa");
        Assert.Contains(seen, m => m.Contains("hello from CoCa"));
    }
}
