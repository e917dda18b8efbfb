using CoCa.MLNet.IO;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace CoCa.MLNet.Persistence;

/// <summary>Writes the entries of one transformer into a model package (a folder inside the zip).</summary>
internal sealed class CoCaPackageWriter
{
    private readonly ZipArchive _zip;
    private readonly string _prefix;

    internal CoCaPackageWriter(ZipArchive zip, string prefix)
    {
        _zip = zip;
        _prefix = prefix;
    }

    public void WriteBytes(string name, ReadOnlySpan<byte> bytes)
    {
        using var s = Create(name);
        s.Write(bytes);
    }

    public void WriteText(string name, string text) => WriteBytes(name, System.Text.Encoding.UTF8.GetBytes(text));

    public void WriteJson<T>(string name, T value) => WriteText(name, JsonSerializer.Serialize(value, PackageJson.Options));

    public Stream Create(string name) => _zip.CreateEntry(_prefix + name, CompressionLevel.Fastest).Open();
}

/// <summary>Reads the entries one transformer wrote with <see cref="CoCaPackageWriter"/>.</summary>
internal sealed class CoCaPackageReader
{
    private readonly ZipArchive _zip;
    private readonly string _prefix;

    internal CoCaPackageReader(IHostEnvironment environment, ZipArchive zip, string prefix, string source)
    {
        Environment = environment;
        _zip = zip;
        _prefix = prefix;
        Source = source;
    }

    /// <summary>The ML.NET environment (the MLContext's) loading the model: for logging and new components.</summary>
    public IHostEnvironment Environment { get; }

    /// <summary>The package file, for error messages.</summary>
    public string Source { get; }

    public bool Contains(string name) => _zip.GetEntry(_prefix + name) is not null;

    public byte[] ReadBytes(string name)
    {
        var entry = _zip.GetEntry(_prefix + name)
            ?? throw new InvalidDataException($"Model package '{Source}' lacks entry '{_prefix + name}'; it is damaged or was written by another version.");
        using var s = entry.Open();
        using var ms = new MemoryStream(checked((int)entry.Length));
        s.CopyTo(ms);
        return ms.ToArray();
    }

    public string ReadText(string name) => System.Text.Encoding.UTF8.GetString(ReadBytes(name));

    public T ReadJson<T>(string name) => JsonSerializer.Deserialize<T>(ReadBytes(name), PackageJson.Options)
        ?? throw new InvalidDataException($"Model package '{Source}': entry '{_prefix + name}' is empty.");
}

internal static class PackageJson
{
    public static readonly JsonSerializerOptions Options = CoCaJson.Create(indented: true);
}
