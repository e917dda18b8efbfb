using CoCa.MLNet.Notebooks.Tests.Runner;

namespace CoCa.MLNet.Notebooks.Tests.KernelHelpers;

/// <summary>
/// <c>value.Display()</c>, which .NET Interactive offers on every object. Lives in its own namespace that the runner
/// imports, as the kernel does for its own.
/// </summary>
public static class DisplayExtensions
{
    public static DisplayedValue Display(this object? value, params string[] mimeTypes) =>
        (NotebookKernel.Current ?? throw new InvalidOperationException("Display() outside a notebook run.")).display(value, mimeTypes);
}
