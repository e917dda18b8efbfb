namespace CoCa.MLNet.Transforms;

internal static class PersistenceErrors
{
    /// <summary>What ML.NET's Model.Save meets when a pipeline holds one of our transformers.</summary>
    public static NotSupportedException UseSaveCoCa(string transformer) => new(
        $"{transformer} is saved with mlContext.Model.SaveCoCa(model, inputSchema, path) and loaded with mlContext.Model.LoadCoCa(path, out schema) " +
        "(CoCa.MLNet.Persistence): ML.NET 5 keeps Model.Save's machinery internal to Microsoft.ML, so transformers from other libraries cannot use it.");
}
