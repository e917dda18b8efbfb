using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CoCa.MLNet.Featurization;

/// <summary>
/// A text annotation on a featurizer's tokens column that identifies everything the tokens depend on besides the
/// input column: the encoder's ONNX bytes and the settings that turn an input into pixels (image folder, frame
/// count, ...). The attentional pooler trainer keys its feature cache with it, so a cached dataset is reused
/// without running the encoder at all, and a different encoder never reuses it.
/// </summary>
internal static class EncoderFingerprint
{
    /// <summary>The annotation's name (a text value: hex SHA-256).</summary>
    public const string AnnotationName = "CoCa.EncoderFingerprint";

    /// <summary>SHA-256 over the ONNX model and the settings, as lowercase hex.</summary>
    public static string Compute(byte[] onnxModel, params string?[] settings)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(onnxModel);
        foreach (var s in settings)
        {
            var bytes = Encoding.UTF8.GetBytes(s ?? "\0null");
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Text annotation: the input column whose values are the paths of the files the tokens were computed from.</summary>
    internal const string InputPathColumnAnnotation = "CoCa.InputPathColumn";

    /// <summary>Text annotation: the folder those paths are relative to (empty: as given).</summary>
    internal const string InputFolderAnnotation = "CoCa.InputFolder";

    /// <summary>
    /// Annotations holding the fingerprint (<paramref name="fingerprint"/> runs on first read only) and, for a path
    /// input, which column names the input files and the folder they are relative to: the feature cache hashes those
    /// files' bytes, so a file changed under the same name is featurized again.
    /// </summary>
    public static DataViewSchema.Annotations Annotations(Lazy<string> fingerprint, string? inputPathColumn = null, string? inputFolder = null)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        builder.Add(AnnotationName, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = fingerprint.Value.AsMemory());
        if (inputPathColumn is not null)
        {
            builder.Add(InputPathColumnAnnotation, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = inputPathColumn.AsMemory());
            builder.Add(InputFolderAnnotation, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = (inputFolder ?? "").AsMemory());
        }
        return builder.ToAnnotations();
    }
}
