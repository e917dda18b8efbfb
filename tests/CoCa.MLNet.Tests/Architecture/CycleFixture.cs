// Two namespaces that depend on each other, for NamespaceCycleTests.Graph_FindsACycle.
namespace CoCa.MLNet.Tests.Architecture.CycleA
{
    internal static class Ping { public static int Call(int n) => n <= 0 ? 0 : CycleB.Pong.Call(n - 1); }
}

namespace CoCa.MLNet.Tests.Architecture.CycleB
{
    internal static class Pong { public static int Call(int n) => n <= 0 ? 1 : CycleA.Ping.Call(n - 1); }
}
