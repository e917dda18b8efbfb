using System.Reflection;
using CoCa.MLNet.Training.Pooling;
using TorchSharp;

namespace CoCa.MLNet.Training.Tests.Stress;

/// <summary>
/// No code of CoCa.MLNet.Training converts a .NET number to a TorchSharp <see cref="Scalar"/> (or tensor) implicitly:
/// such a temporary has no owner, so the finalizer may free it while libtorch still reads it. The check reads the IL of
/// every method body, so it holds for code no test happens to run, and in Release builds (where, unlike Debug, the JIT
/// lets the temporary die at its last managed use).
/// </summary>
public class ImplicitScalarScanTests
{
    [Fact]
    public void TrainingAssembly_HasNoImplicitScalarConversions()
    {
        var offenders = ImplicitConversions(typeof(AttentionalPoolerTrainer).Assembly).ToList();
        Assert.True(offenders.Count == 0, "Implicit number → TorchSharp Scalar/Tensor conversions (create the Scalar explicitly, keep it alive, dispose it):\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void Scan_FindsAnImplicitConversion()
    {
        // The scanner itself must see the pattern it forbids: this test assembly's own helper below uses one.
        Assert.Contains(ImplicitConversions(typeof(ImplicitScalarScanTests).Assembly), o => o.Contains(nameof(UsesImplicitScalar), StringComparison.Ordinal));
    }

    private static torch.Tensor UsesImplicitScalar(torch.Tensor t) => t.mul(0.5);

    internal static IEnumerable<string> ImplicitConversions(Assembly assembly)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                foreach (var callee in Calls(method))
                {
                    string? why = IsImplicitConversion(callee) ? Describe(callee)
                        : callee.Module.Assembly == typeof(Scalar).Assembly ? ConvertsInside(callee, depth: 3) : null;
                    if (why is not null) yield return $"{type.FullName}.{method.Name}: {why}";
                }
            }
        }
    }

    private static bool IsImplicitConversion(MethodBase m) =>
        m is MethodInfo { Name: "op_Implicit" } mi && (mi.ReturnType == typeof(Scalar) || mi.ReturnType == typeof(torch.Tensor))
        && mi.GetParameters() is [{ ParameterType: { IsPrimitive: true } from }] && from != typeof(bool);  // bool → Tensor: TorchSharp's `return false` for a null argument

    private static string Describe(MethodBase m) => $"{((MethodInfo)m).GetParameters()[0].ParameterType.Name} → {((MethodInfo)m).ReturnType.Name}";

    private static readonly Dictionary<MethodBase, string?> Inside = [];

    /// <summary>
    /// A TorchSharp method that converts one of its number arguments implicitly (e.g. <c>operator *(Tensor, double)</c>,
    /// which calls <c>mul(Scalar)</c> with a temporary): the same hazard, one call further down.
    /// </summary>
    private static string? ConvertsInside(MethodBase method, int depth)
    {
        lock (Inside)
            if (Inside.TryGetValue(method, out var known)) return known;
        string? result = null;
        if (depth > 0)
        {
            foreach (var callee in Calls(method))
            {
                if (IsImplicitConversion(callee)) { result = $"{Name(method)} converts {Describe(callee)} implicitly"; break; }
                if (callee.Module.Assembly == typeof(Scalar).Assembly && callee != method && ConvertsInside(callee, depth - 1) is { } deeper)
                { result = $"{Name(method)} → {deeper}"; break; }
            }
        }
        lock (Inside) Inside[method] = result;
        return result;
    }

    private static string Name(MethodBase m) => $"{m.DeclaringType?.Name}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";

    private static IEnumerable<MethodBase> Calls(MethodBase method) => IlReader.Calls(method);
}
