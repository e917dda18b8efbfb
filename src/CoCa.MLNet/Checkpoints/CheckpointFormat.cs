using System.Buffers.Binary;

namespace CoCa.MLNet.Checkpoints;

/// <summary>What a checkpoint file is, judged by its first bytes (its extension may lie: open_clip's .bin is a zip).</summary>
internal enum CheckpointFileKind
{
    /// <summary>Not recognised.</summary>
    Unknown,
    /// <summary>torch.save's zip format (torch ≥ 1.6 default): a zip with <c>*/data.pkl</c>.</summary>
    TorchZip,
    /// <summary>torch.save's legacy format (pre-1.6 or <c>_use_new_zipfile_serialization=False</c>): bare pickles, or a tar.</summary>
    LegacyTorch,
    /// <summary>Hugging Face safetensors.</summary>
    Safetensors,
}

/// <summary>Sniffs a checkpoint file's format from its magic bytes.</summary>
internal static class CheckpointFormat
{
    public static CheckpointFileKind Detect(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> head = stackalloc byte[264];
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return Detect(head[..n], stream.Length);
    }

    internal static CheckpointFileKind Detect(ReadOnlySpan<byte> head, long fileLength)
    {
        if (head.Length >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && (head[2], head[3]) is (3, 4) or (5, 6))
            return CheckpointFileKind.TorchZip;
        // Safetensors before the pickle check: a header length such as 0x0280 also starts with 0x80.
        if (head.Length >= 9)
        {
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(head);
            if (headerLength >= 2 && headerLength <= (ulong)Math.Max(0, fileLength - 8) && head[8] == (byte)'{')
                return CheckpointFileKind.Safetensors;
        }
        // Legacy torch.save starts with a protocol-2 pickle of its magic number; the tar variant is older still.
        if (head.Length >= 2 && head[0] == 0x80 && head[1] <= 5)
            return CheckpointFileKind.LegacyTorch;
        if (head.Length >= 262 && head[257..262].SequenceEqual("ustar"u8))
            return CheckpointFileKind.LegacyTorch;
        return CheckpointFileKind.Unknown;
    }
}
