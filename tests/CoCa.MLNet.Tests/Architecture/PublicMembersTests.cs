using System.Reflection;
using System.Text;
using CoCa.MLNet.Conversion;
using CoCa.MLNet.Hosting;
using CoCa.MLNet.Training.FineTuning;

namespace CoCa.MLNet.Tests.Architecture;

/// <summary>
/// The public members (and protected ones of public types) of the packaged libraries (Demo included) are a checked-in list
/// (Architecture/PublicMembers.txt), as the public types are (<see cref="PublicApiTests"/>): a member that appears,
/// disappears or changes its signature fails here until the list says so. To accept a deliberate change, run this test
/// with <c>COCA_WRITE_PUBLIC_MEMBERS=path/to/tests/CoCa.MLNet.Tests/Architecture/PublicMembers.txt</c> and review the diff.
/// </summary>
public class PublicMembersTests
{
    private static readonly string ListPath = Path.Combine(AppContext.BaseDirectory, "Architecture", "PublicMembers.txt");

    internal static readonly Assembly[] Libraries = [typeof(CoCaConverter).Assembly, typeof(CoCaFineTuner).Assembly, typeof(CoCaPredictionEnginePoolOptions).Assembly, typeof(CoCa.MLNet.Demo.TinyCoCa).Assembly];

    [Fact]
    public void PublicMembers_EqualTheCheckedInList()
    {
        var actual = Render(Libraries);
        if (Environment.GetEnvironmentVariable("COCA_WRITE_PUBLIC_MEMBERS") is { Length: > 0 } target)
            File.WriteAllText(target, actual);
        var expected = File.ReadAllLines(ListPath).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet(StringComparer.Ordinal);
        var lines = actual.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet(StringComparer.Ordinal);
        var added = lines.Except(expected).Order(StringComparer.Ordinal).Take(40).ToList();
        var removed = expected.Except(lines).Order(StringComparer.Ordinal).Take(40).ToList();
        Assert.True(added.Count == 0 && removed.Count == 0,
            "The public members differ from tests/CoCa.MLNet.Tests/Architecture/PublicMembers.txt (a deliberate change: rerun with " +
            "COCA_WRITE_PUBLIC_MEMBERS=<that file> and review the diff; a name that goes needs an [Obsolete] forwarder or a CHANGELOG.md entry)" +
            (added.Count > 0 ? $"\n  new or changed:\n    {string.Join("\n    ", added)}" : "") +
            (removed.Count > 0 ? $"\n  gone or changed:\n    {string.Join("\n    ", removed)}" : ""));
    }

    [Fact]
    public void TheListSeesAMemberThatChanges()
    {
        var rendered = Render(Libraries);
        Assert.Contains("CoCa.MLNet.Conversion.CoCaConverter :: static Convert(String, String, String, String, VisionPrecision) : ConvertedModel", rendered);
        Assert.DoesNotContain("CoCaVisionEncoder", rendered);   // internal types are not listed
    }

    /// <summary>One line per public or protected member of every exported type, "[Assembly]" sections, sorted.</summary>
    internal static string Render(IEnumerable<Assembly> assemblies)
    {
        var text = new StringBuilder("# Public and protected members of the public types (PublicMembersTests). Regenerate on purpose; see the test.\n");
        foreach (var assembly in assemblies)
        {
            text.Append('\n').Append('[').Append(assembly.GetName().Name).Append("]\n");
            var lines = assembly.GetExportedTypes().SelectMany(t => Members(t).Select(m => $"{t.FullName} :: {m}")).Order(StringComparer.Ordinal);
            foreach (var line in lines) text.Append(line).Append('\n');
        }
        return text.ToString();
    }

    private static IEnumerable<string> Members(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        static bool Visible(MethodBase? m) => m is not null && (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly);
        foreach (var c in type.GetConstructors(all).Where(Visible))
            yield return $".ctor({Parameters(c)})";
        foreach (var m in type.GetMethods(all).Where(m => Visible(m) && !m.IsSpecialName && !m.Name.Contains('<')))
            yield return $"{(m.IsStatic ? "static " : "")}{m.Name}{Generics(m)}({Parameters(m)}) : {Name(m.ReturnType)}";
        foreach (var p in type.GetProperties(all))
        {
            var accessors = new[] { (p.GetMethod, "get"), (p.SetMethod, p.SetMethod?.ReturnParameter.GetRequiredCustomModifiers().Any(x => x.Name == "IsExternalInit") == true ? "init" : "set") }
                .Where(a => Visible(a.Item1)).Select(a => a.Item2).ToList();
            if (accessors.Count == 0) continue;
            var index = p.GetIndexParameters();
            yield return $"{(p.GetMethod?.IsStatic == true || p.SetMethod?.IsStatic == true ? "static " : "")}{p.Name}{(index.Length > 0 ? $"[{string.Join(", ", index.Select(i => Name(i.ParameterType)))}]" : "")} : {Name(p.PropertyType)} {{ {string.Join("; ", accessors)}; }}";
        }
        foreach (var f in type.GetFields(all).Where(f => (f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly) && !f.IsSpecialName && !f.Name.Contains('<')))
            yield return $"{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{(f.IsInitOnly ? "readonly " : "")}{f.Name} : {Name(f.FieldType)}";
        foreach (var e in type.GetEvents(all).Where(e => Visible(e.AddMethod)))
            yield return $"event {e.Name} : {Name(e.EventHandlerType!)}";
    }

    private static string Generics(MethodInfo m) => m.IsGenericMethodDefinition ? $"<{string.Join(", ", m.GetGenericArguments().Select(a => a.Name))}>" : "";

    private static string Parameters(MethodBase m) => string.Join(", ", m.GetParameters().Select(p => (p.ParameterType.IsByRef ? (p.IsOut ? "out " : "ref ") : "") + Name(p.ParameterType)));

    private static string Name(Type t)
    {
        if (t.IsByRef) return Name(t.GetElementType()!);
        if (t.IsArray) return Name(t.GetElementType()!) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        if (Nullable.GetUnderlyingType(t) is { } inner) return Name(inner) + "?";
        if (!t.IsGenericType) return t.Name;
        int tick = t.Name.IndexOf('`');
        var name = tick > 0 ? t.Name[..tick] : t.Name;
        return $"{name}<{string.Join(", ", t.GetGenericArguments().Select(Name))}>";
    }
}
