using System.Reflection;

namespace CoCa.MLNet.Tests.Architecture;

/// <summary>
/// The namespace dependency graph of compiled assemblies: namespace A depends on B when a type of A names a type of B
/// in its base type, interfaces, fields, properties, events, method signatures or method bodies (IL: calls, field
/// accesses, type tokens). Each edge keeps one witness ("TypeA → TypeB") so a cycle can be explained.
/// </summary>
internal sealed class NamespaceGraph
{
    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Edges from namespace to namespace, each with a witness.</summary>
    public Dictionary<string, Dictionary<string, string>> Edges { get; } = new(StringComparer.Ordinal);

    public static NamespaceGraph Of(IEnumerable<Assembly> assemblies, Func<string, bool> include)
    {
        var graph = new NamespaceGraph();
        foreach (var assembly in assemblies)
        foreach (var type in assembly.GetTypes())
        {
            string? from = Outermost(type).Namespace;
            if (from is null || !include(from)) continue;
            foreach (var used in Referenced(type).SelectMany(Expand))
            {
                string? to = Outermost(used).Namespace;
                if (to is null || to == from || !include(to)) continue;
                if (!graph.Edges.TryGetValue(from, out var targets)) graph.Edges[from] = targets = new(StringComparer.Ordinal);
                targets.TryAdd(to, $"{Outermost(type).Name} → {Outermost(used).Name}");
            }
        }
        return graph;
    }

    /// <summary>
    /// The cycles, one per strongly connected component of two or more namespaces: its shortest closed path from its first
    /// namespace, then every edge inside the component with its witness.
    /// </summary>
    public IReadOnlyList<string> Cycles()
    {
        var cycles = new List<string>();
        foreach (var component in StronglyConnectedComponents().Where(c => c.Count > 1))
        {
            var members = component.ToHashSet(StringComparer.Ordinal);
            string start = component.Min(StringComparer.Ordinal)!;
            // Shortest path start → ... → start inside the component (breadth-first).
            var previous = new Dictionary<string, string>(StringComparer.Ordinal);
            var queue = new Queue<string>([start]);
            string? last = null;
            while (queue.Count > 0 && last is null)
            {
                var node = queue.Dequeue();
                foreach (var next in Targets(node).Where(members.Contains).Order(StringComparer.Ordinal))
                {
                    if (next == start) { last = node; break; }
                    if (previous.TryAdd(next, node)) queue.Enqueue(next);
                }
            }
            var path = new List<string> { start };
            for (var n = last!; n != start; n = previous[n]) path.Insert(1, n);
            path.Add(start);
            var inside = component.Order(StringComparer.Ordinal)
                .SelectMany(a => Targets(a).Where(members.Contains).Order(StringComparer.Ordinal).Select(b => $"    {Short(a)} → {Short(b)}: {Edges[a][b]}"));
            cycles.Add(string.Join(" → ", path) + "\n  every edge inside this tangle:\n" + string.Join("\n", inside));
        }
        return cycles;
    }

    private static string Short(string ns) => ns.Split('.')[^1];

    private IEnumerable<string> Targets(string node) => Edges.TryGetValue(node, out var t) ? t.Keys : [];

    private List<List<string>> StronglyConnectedComponents()
    {
        // Tarjan's algorithm.
        var nodes = Edges.Keys.Concat(Edges.Values.SelectMany(v => v.Keys)).Distinct().Order(StringComparer.Ordinal).ToList();
        var index = new Dictionary<string, int>(); var low = new Dictionary<string, int>();
        var stack = new Stack<string>(); var onStack = new HashSet<string>();
        var result = new List<List<string>>();
        int counter = 0;
        void Visit(string v)
        {
            index[v] = low[v] = counter++;
            stack.Push(v); onStack.Add(v);
            foreach (var w in Targets(v))
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do { x = stack.Pop(); onStack.Remove(x); component.Add(x); } while (x != v);
            result.Add(component);
        }
        foreach (var n in nodes) if (!index.ContainsKey(n)) Visit(n);
        return result;
    }

    private static Type Outermost(Type t)
    {
        while (t.DeclaringType is { } outer) t = outer;
        return t;
    }

    private static IEnumerable<Type> Referenced(Type type)
    {
        if (type.BaseType is { } b) yield return b;
        foreach (var i in type.GetInterfaces()) yield return i;
        foreach (var f in type.GetFields(All)) yield return f.FieldType;
        foreach (var p in type.GetProperties(All)) yield return p.PropertyType;
        foreach (var e in type.GetEvents(All)) if (e.EventHandlerType is { } h) yield return h;
        foreach (var m in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (m is MethodInfo mi) yield return mi.ReturnType;
            foreach (var p in m.GetParameters()) yield return p.ParameterType;
            foreach (var member in IlReader.References(m))
            {
                switch (member)
                {
                    case Type t: yield return t; break;
                    case MethodInfo called:
                        if (called.DeclaringType is { } d) yield return d;
                        yield return called.ReturnType;
                        foreach (var a in called.IsGenericMethod ? called.GetGenericArguments() : []) yield return a;
                        break;
                    case MethodBase ctor when ctor.DeclaringType is { } cd: yield return cd; break;
                    case FieldInfo field:
                        if (field.DeclaringType is { } fd) yield return fd;
                        yield return field.FieldType;
                        break;
                }
            }
        }
    }

    private static IEnumerable<Type> Expand(Type t)
    {
        if (t.IsGenericParameter) yield break;
        if (t.HasElementType) { foreach (var e in Expand(t.GetElementType()!)) yield return e; yield break; }
        yield return t.IsGenericType ? t.GetGenericTypeDefinition() : t;
        if (t.IsGenericType) foreach (var a in t.GetGenericArguments()) foreach (var e in Expand(a)) yield return e;
    }
}
