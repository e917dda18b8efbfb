using Microsoft.ML;

namespace CoCa.MLNet.Persistence;

/// <summary>
/// A CoCa.MLNet transformer that <see cref="CoCaModelPackage"/> can write into a model package and rebuild in a fresh process.
/// </summary>
/// <remarks>
/// ML.NET 5 keeps its save/load machinery internal (ModelSaveContext has no public members, ModelLoadContext and
/// LoadableClass are internal), so a transformer from outside Microsoft.ML cannot take part in mlContext.Model.Save.
/// A CoCa model package holds our transformers in this format and ML.NET's own transformers in ML.NET's format.
/// </remarks>
internal interface ICoCaSavableTransformer : ITransformer
{
    /// <summary>Writes everything needed to rebuild this transformer (ONNX bytes, options, label names...).</summary>
    void SaveTo(CoCaPackageWriter writer);

    /// <summary>Rebuilds the transformer written by <see cref="SaveTo"/>.</summary>
    static abstract ITransformer LoadFrom(CoCaPackageReader reader);
}
