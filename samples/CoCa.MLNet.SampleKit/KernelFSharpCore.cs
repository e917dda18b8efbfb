using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace CoCa.MLNet.Samples;

/// <summary>
/// Lets Plotly.NET run inside the .NET Interactive kernel. The kernel (1.0.0-beta.26120: the dotnet-interactive tool
/// 1.0.712001 behind Polyglot Notebooks and Jupyter, and dotnet-repl 0.3.259) has FSharp.Core 10.0 loaded for its F#
/// kernel; Plotly.NET 6.0.0 is compiled against FSharp.Core 10.1, which then cannot be loaded beside it, so every
/// chart fails with "Could not load file or assembly 'FSharp.Core, Version=10.1.0.0'". FSharp.Core keeps binary
/// compatibility within a major version, so a request for 10.x is answered with the loaded 10.y. In an ordinary process
/// (samples, tests, CLI) FSharp.Core 10.1 lies beside the app, the request resolves normally, and this never runs.
/// </summary>
internal static class KernelFSharpCore
{
#pragma warning disable CA2255 // A module initializer, so the handler is in place before any chart is built in a kernel.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install()
    {
        AssemblyLoadContext.Default.Resolving += Resolve;
        var own = AssemblyLoadContext.GetLoadContext(typeof(KernelFSharpCore).Assembly);
        if (own is not null && own != AssemblyLoadContext.Default) own.Resolving += Resolve;
    }

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName requested)
    {
        if (requested.Name != "FSharp.Core" || requested.Version is null) return null;
        var loaded = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "FSharp.Core");
        return loaded?.GetName().Version?.Major == requested.Version.Major ? loaded : null;
    }
}
