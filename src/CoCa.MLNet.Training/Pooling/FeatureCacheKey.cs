using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Training.Pooling;

/// <summary>
/// Identifies the features a cache file holds: SHA-256 over the features column (name, shape), the values of the
/// columns that identify each row's encoder input (e.g. the image path, in row order) and a fingerprint of the encoder.
/// A text value that names a file or a folder (the featurizer's path column, resolved against its folder, or any text
/// naming an existing file or folder) stands for its contents too: the file's bytes, or the names and bytes of the
/// files directly inside the folder (a folder of frames), so a file changed under the same name never reuses the cache.
/// The encoder's fingerprint is the features column's <see cref="EncoderFingerprintAnnotation"/> when a featurizer
/// provides one, otherwise the exact features of the first rows: a different encoder, or different weights, changes
/// them. When no column identifies the rows, the key covers all feature values (the cache is then verified, not skipped).
/// </summary>
internal sealed class FeatureCacheKey : IDisposable
{
    /// <summary>A text annotation on a features column naming the encoder (e.g. a hash of its weights).</summary>
    public const string EncoderFingerprintAnnotation = CoCa.MLNet.Featurization.EncoderFingerprint.AnnotationName;

    /// <summary>Rows whose features fingerprint the encoder when the column has no fingerprint annotation.</summary>
    public const int ProbeRows = 4;

    private const int Version = 2;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public FeatureCacheKey(string featureColumn, TokenShape shape)
    {
        AddText($"coca-feature-cache/{Version}");
        AddText(featureColumn);
        AddInt(shape.Frames);
        AddInt(shape.TokensPerFrame);
        AddInt(shape.Dim);
    }

    /// <summary>
    /// The identifying columns: <paramref name="requested"/> when given (each must exist), otherwise every visible scalar
    /// column of text, number, boolean or key type except the features and the label.
    /// </summary>
    public static IReadOnlyList<DataViewSchema.Column> SelectIdentityColumns(DataViewSchema schema, string[]? requested, string featureColumn, string labelColumn)
    {
        if (requested is not null)
        {
            return requested.Select(name =>
            {
                var col = schema.GetColumnOrNull(name)
                    ?? throw new ArgumentOutOfRangeException(nameof(requested), $"Feature cache key column '{name}' not found in the training data.");
                if (!IsHashable(col.Type, allowVectors: true))
                    throw new ArgumentOutOfRangeException(nameof(requested), $"Feature cache key column '{name}' is {col.Type}; expected text, numbers, booleans or keys (or vectors of them).");
                return col;
            }).ToList();
        }
        return schema.Where(c => !c.IsHidden && c.Name != featureColumn && c.Name != labelColumn && IsHashable(c.Type, allowVectors: false)).ToList();
    }

    private static bool IsHashable(DataViewType type, bool allowVectors) => type switch
    {
        TextDataViewType or BooleanDataViewType or NumberDataViewType or KeyDataViewType => true,
        VectorDataViewType v when allowVectors => IsHashable(v.ItemType, false),
        _ => false,
    };

    public void AddText(string text)
    {
        AddInt(text.Length);
        _hash.AppendData(MemoryMarshal.AsBytes(text.AsSpan()));
    }

    public void AddInt(long value) => _hash.AppendData(BitConverter.GetBytes(value));

    public void AddFloats(ReadOnlySpan<float> values) => _hash.AppendData(MemoryMarshal.AsBytes(values));

    /// <summary>
    /// The column of file paths a featurizer annotated on <paramref name="featureColumn"/> and the folder they are
    /// relative to (<see cref="CoCa.MLNet.Featurization.EncoderFingerprint.Annotations"/>); null when none.
    /// </summary>
    public static (string Column, string? Folder)? InputFiles(DataViewSchema.Column featureColumn)
    {
        var annotations = featureColumn.Annotations;
        string? Read(string name)
        {
            if (annotations.Schema.GetColumnOrNull(name) is not { Type: TextDataViewType }) return null;
            ReadOnlyMemory<char> text = default;
            annotations.GetValue(name, ref text);
            return text.ToString();
        }
        var column = Read(CoCa.MLNet.Featurization.EncoderFingerprint.InputPathColumnAnnotation);
        if (string.IsNullOrEmpty(column)) return null;
        var folder = Read(CoCa.MLNet.Featurization.EncoderFingerprint.InputFolderAnnotation);
        return (column, string.IsNullOrEmpty(folder) ? null : folder);
    }

    /// <summary>
    /// Returns an action that hashes the current values of <paramref name="columns"/> of <paramref name="row"/>; text
    /// values naming files also hash the files' contents (<paramref name="inputFiles"/>: the featurizer's path column
    /// and the folder its paths are relative to).
    /// </summary>
    public Action CreateRowHasher(DataViewRow row, IReadOnlyList<DataViewSchema.Column> columns, (string Column, string? Folder)? inputFiles = null)
    {
        foreach (var c in columns)
        {
            AddText(c.Name);
            AddText(c.Type.ToString() ?? "");
        }
        var parts = columns.Select(c => c.Type is TextDataViewType
            ? CreatePathHasher(row, c, inputFiles is { } f && f.Column == c.Name ? f.Folder : null)
            : CreateColumnHasher(row, c)).ToArray();
        return () =>
        {
            foreach (var p in parts) p();
        };
    }

    // Text: the value, then the contents of the file or folder it names, if any.
    private Action CreatePathHasher(DataViewRow row, DataViewSchema.Column column, string? folder)
    {
        var getter = row.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> value = default;
        return () =>
        {
            getter(ref value);
            AddValue(value);
            if (value.Length > 0) AddContents(folder is null ? value.ToString() : Path.Combine(folder, value.ToString()));
        };
    }

    /// <summary>Hashes the bytes of file <paramref name="path"/>, or the names and bytes of the files directly inside folder <paramref name="path"/>.</summary>
    internal void AddContents(string path)
    {
        if (File.Exists(path))
        {
            AddText("file");
            AddFile(path);
        }
        else if (Directory.Exists(path))
        {
            var files = Directory.GetFiles(path);
            Array.Sort(files, StringComparer.Ordinal);
            AddText("folder");
            AddInt(files.Length);
            foreach (var file in files)
            {
                AddText(Path.GetFileName(file));
                AddFile(file);
            }
        }
        else
        {
            AddText("none");
        }
    }

    private void AddFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        AddInt(stream.Length);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
                _hash.AppendData(buffer, 0, n);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Action CreateColumnHasher(DataViewRow row, DataViewSchema.Column column)
    {
        var raw = column.Type is VectorDataViewType v ? v.ItemType.RawType : column.Type.RawType;
        var method = GetType().GetMethod(column.Type is VectorDataViewType ? nameof(VectorHasher) : nameof(ScalarHasher),
            System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.MakeGenericMethod(raw);
        return (Action)method.Invoke(this, [row, column])!;
    }

    private Action ScalarHasher<T>(DataViewRow row, DataViewSchema.Column column)
    {
        var getter = row.GetGetter<T>(column);
        T value = default!;
        return () =>
        {
            getter(ref value);
            AddValue(value);
        };
    }

    private Action VectorHasher<T>(DataViewRow row, DataViewSchema.Column column)
    {
        var getter = row.GetGetter<VBuffer<T>>(column);
        VBuffer<T> value = default;
        return () =>
        {
            getter(ref value);
            AddInt(value.Length);
            foreach (var item in value.DenseValues()) AddValue(item);
        };
    }

    private void AddValue<T>(T value)
    {
        switch (value)
        {
            case ReadOnlyMemory<char> text:
                AddInt(text.Length);
                _hash.AppendData(MemoryMarshal.AsBytes(text.Span));
                break;
            case float f: AddFloats([f]); break;
            case double d: _hash.AppendData(BitConverter.GetBytes(d)); break;
            case bool b: _hash.AppendData([b ? (byte)1 : (byte)0]); break;
            case IConvertible c: AddText(c.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            default: AddText(value?.ToString() ?? "<null>"); break;
        }
    }

    public byte[] Finish() => _hash.GetHashAndReset();

    public static string ToFileName(byte[] key) => "coca-features-" + Convert.ToHexStringLower(key) + ".f16";

    public void Dispose() => _hash.Dispose();
}
