using CoCa.MLNet.Conversion;
using CoCa.MLNet.Training.FineTuning;

namespace CoCa.MLNet.Tests.Architecture;

/// <summary>
/// CoCa.MLNet, CoCa.MLNet.Training, CoCa.MLNet.Hosting, CoCa.MLNet.Demo and the coca CLI have no namespace cycles: every namespace depends only on namespaces that do not
/// depend back on it, so each can be read (and moved) after the ones below it. The graph comes from the compiled
/// assemblies (signatures and IL), so it sees what the code really uses, not what the using-lines say.
/// </summary>
public class NamespaceCycleTests
{
    [Fact]
    public void LibraryNamespaces_HaveNoCycles()
    {
        var graph = NamespaceGraph.Of([typeof(CoCaConverter).Assembly, typeof(CoCaFineTuner).Assembly, typeof(CoCa.MLNet.Hosting.CoCaPredictionEnginePoolOptions).Assembly,
                typeof(CoCa.MLNet.Cli.Commands.CommandCatalog).Assembly, typeof(CoCa.MLNet.Demo.TinyCoCa).Assembly],
            ns => ns.StartsWith("CoCa.MLNet", StringComparison.Ordinal));
        var cycles = graph.Cycles();
        Assert.True(cycles.Count == 0, "Namespace cycles (move the type that makes the back edge, or invert the dependency):\n" + string.Join("\n", cycles));
    }

    [Fact]
    public void Graph_FindsACycle()
    {
        // The check must see what it forbids: the two namespaces below depend on each other.
        var graph = NamespaceGraph.Of([typeof(NamespaceCycleTests).Assembly], ns => ns.StartsWith("CoCa.MLNet.Tests.Architecture.Cycle", StringComparison.Ordinal));
        var cycle = Assert.Single(graph.Cycles());
        Assert.Contains("CoCa.MLNet.Tests.Architecture.CycleA → CoCa.MLNet.Tests.Architecture.CycleB → CoCa.MLNet.Tests.Architecture.CycleA", cycle);
    }
}
