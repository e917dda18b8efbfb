using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Transforms;

/// <summary>
/// Reaches the <see cref="IHostEnvironment"/> behind an ML.NET catalog. ML.NET keeps it internal
/// (<c>IInternalCatalog.Environment</c>), so catalog extension methods of outside libraries cannot get it
/// through the public API; without it our logs and seeds would not follow the user's MLContext.
/// </summary>
internal static class CatalogEnvironment
{
    public static IHostEnvironment Get(object catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (catalog is IHostEnvironment env) return env;

        // Catalogs implement the internal interface IInternalCatalog { IHostEnvironment Environment { get; } }.
        var iface = catalog.GetType().GetInterfaces().FirstOrDefault(i => i.Name == "IInternalCatalog");
        if (iface?.GetProperty("Environment")?.GetValue(catalog) is IHostEnvironment fromInterface)
            return fromInterface;

        // Nested trainer catalogs (e.g. MulticlassClassificationTrainers) keep it in a non-public property.
        for (var t = catalog.GetType(); t is not null; t = t.BaseType)
        {
            foreach (var p in t.GetProperties(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                if (typeof(IHostEnvironment).IsAssignableFrom(p.PropertyType) && p.GetIndexParameters().Length == 0 && p.GetValue(catalog) is IHostEnvironment e)
                    return e;
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                if (typeof(IHostEnvironment).IsAssignableFrom(f.FieldType) && f.GetValue(catalog) is IHostEnvironment e)
                    return e;
        }
        throw new InvalidOperationException($"Cannot find the MLContext behind catalog {catalog.GetType().FullName}; this ML.NET version is not supported by CoCa.MLNet.");
    }

    /// <summary>Writes an informational message to the MLContext log (the public form of ML.NET's internal ch.Info).</summary>
    public static void Info(IChannel channel, string message) => channel.Info(MessageSensitivity.None, "{0}", message);
}
