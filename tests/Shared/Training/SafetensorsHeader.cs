using System.Text.Json;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>What a saved .safetensors file declares, read from its JSON header (mixed precision must save float32).</summary>
internal static class SafetensorsHeader
{
    /// <summary>Tensor name → safetensors dtype, from the file's JSON header.</summary>
    public static Dictionary<string, string> SafetensorsDtypes(string path)
    {
        using var file = File.OpenRead(path);
        var length = new byte[8];
        file.ReadExactly(length);
        var header = new byte[BitConverter.ToInt64(length)];
        file.ReadExactly(header);
        using var doc = JsonDocument.Parse(header);
        return doc.RootElement.EnumerateObject().Where(e => e.Name != "__metadata__")
            .ToDictionary(e => e.Name, e => e.Value.GetProperty("dtype").GetString()!);
    }
}
