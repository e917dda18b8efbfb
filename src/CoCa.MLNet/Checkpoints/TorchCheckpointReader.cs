using System.IO.Compression;
using System.Runtime.InteropServices;

namespace CoCa.MLNet.Checkpoints;

/// <summary>
/// Reads PyTorch <c>torch.save</c> checkpoints in the zip format (torch ≥ 1.6; open_clip's
/// <c>open_clip_pytorch_model.bin</c>) without Python or libtorch: a zip whose single top folder holds
/// <c>data.pkl</c> (the pickled state dict), <c>data/&lt;key&gt;</c> (raw storages), <c>version</c> and maybe <c>byteorder</c>.
/// Accepts a plain dict or OrderedDict of tensors, or <c>{"state_dict": ...}</c>; strips a DDP <c>module.</c> prefix.
/// Tensors of any stride/offset are materialised as contiguous row-major float32 (float16/bfloat16/float64/int64 converted).
/// Only allow-listed pickle globals (OrderedDict, torch tensor/parameter rebuilders, storage classes) are honoured.
/// </summary>
internal static class TorchCheckpointReader
{
    public static StateDict Read(string path) => Read(path, include: null);

    /// <summary>Reads the tensors whose (cleaned) names pass <paramref name="include"/>; other storages are never read.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointException">The file is not a readable torch.save state dict; the message says why.</exception>
    public static StateDict Read(string path, Func<string, bool>? include)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"Checkpoint file '{full}' does not exist.", full);

        switch (CheckpointFormat.Detect(full))
        {
            case CheckpointFileKind.TorchZip: break;
            case CheckpointFileKind.LegacyTorch:
                throw new CheckpointException(
                    $"'{full}' is a PyTorch checkpoint in the legacy (pre-1.6, non-zip) torch.save format, which CoCa.MLNet does not read. " +
                    "Re-save it with a current torch (torch.save(torch.load(path), path) writes the zip format) or convert it to .safetensors.");
            case CheckpointFileKind.Safetensors:
                throw new CheckpointException($"'{full}' is a safetensors file, not a torch.save checkpoint; read it with SafetensorsReader or CheckpointLoader.");
            default:
                throw new CheckpointException($"'{full}' is not a PyTorch checkpoint: it is not a zip archive (torch.save's format) and not a legacy torch pickle.");
        }

        using var stream = File.OpenRead(full);
        ZipArchive zip;
        try { zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException e)
        {
            throw new CheckpointException($"'{full}' starts like a zip (torch.save) file but its zip directory cannot be read; the file is truncated or corrupt ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}).", e);
        }
        using (zip)
        {
            return new Archive(zip, full).ReadStateDict(include);
        }
    }

    /// <summary>One open torch.save zip: finds its records and turns the unpickled state dict into tensors.</summary>
    private sealed class Archive
    {
        private readonly ZipArchive _zip;
        private readonly string _path;
        private readonly string _prefix;
        private readonly bool _bigEndian;
        private readonly Dictionary<string, byte[]> _storageCache = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _storageUsesLeft = new(StringComparer.Ordinal);

        public Archive(ZipArchive zip, string path)
        {
            _zip = zip;
            _path = path;
            var pickles = zip.Entries
                .Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
                .ToList();
            if (pickles.Count == 0)
                throw new CheckpointException($"'{path}' is a zip file but not a torch.save checkpoint: it has no <folder>/data.pkl record.");
            if (pickles.Count > 1)
                throw new CheckpointException($"'{path}' has {pickles.Count} top folders with data.pkl ({string.Join(", ", pickles.Select(p => p.FullName))}); torch.save writes one.");
            _prefix = pickles[0].FullName[..^"data.pkl".Length];

            var byteOrder = zip.GetEntry(_prefix + "byteorder");
            if (byteOrder is not null)
            {
                var order = System.Text.Encoding.ASCII.GetString(ReadEntry(byteOrder, byteOrder.Length)).Trim();
                _bigEndian = order switch
                {
                    "little" => false,
                    "big" => true,
                    _ => throw new CheckpointException($"'{path}': record '{byteOrder.FullName}' says byte order '{order}', expected 'little' or 'big'."),
                };
            }
        }

        private string PickleSource => $"'{_path}' ({_prefix}data.pkl)";

        public StateDict ReadStateDict(Func<string, bool>? include)
        {
            var pklEntry = _zip.GetEntry(_prefix + "data.pkl")!;
            var pickle = ReadEntry(pklEntry, pklEntry.Length);
            var machine = new PickleMachine(pickle, PickleSource, TorchPickleGlobals.Find, pid => TorchPickleGlobals.LoadPersistent(pid, PickleSource));
            var entries = SelectStateDict(machine.Load());

            var strip = StateDictKeys.ModulePrefixStripper(entries.Select(e => e.Key).ToList());
            var wanted = new List<(string Name, TorchTensorRef Tensor)>();
            foreach (var (key, value) in entries)
            {
                var name = strip(key);
                if (include is not null && !include(name)) continue;
                wanted.Add((name, value));
            }
            foreach (var (_, tensor) in wanted)
                _storageUsesLeft[tensor.Storage.Key] = _storageUsesLeft.GetValueOrDefault(tensor.Storage.Key) + 1;

            var tensors = new List<CheckpointTensor>(wanted.Count);
            foreach (var (name, tensor) in wanted)
                tensors.Add(new CheckpointTensor(name, tensor.Size, Materialize(name, tensor), tensor.Storage.DType));
            return new StateDict(tensors, _path);
        }

        /// <summary>The top-level object must be a dict of tensors, or a dict holding one under "state_dict".</summary>
        private List<KeyValuePair<string, TorchTensorRef>> SelectStateDict(object? root)
        {
            if (root is PyOpaque opaque)
                throw new CheckpointException(
                    $"'{_path}' holds a pickled object built by unsupported pickle global '{opaque.GlobalName}', not a state dict. " +
                    "Only dicts of tensors are read (save model.state_dict(), not the model).");
            if (root is not PyDict dict)
                throw new CheckpointException($"'{_path}' holds a pickled {PyRepr.TypeName(root)}, not a state dict (a dict of tensors).");
            if (dict.TryGetValue("state_dict", out var inner))
            {
                dict = inner as PyDict ?? throw new CheckpointException($"'{_path}': its \"state_dict\" entry is a {PyRepr.TypeName(inner)}, not a dict of tensors.");
            }

            var result = new List<KeyValuePair<string, TorchTensorRef>>(dict.Count);
            foreach (var (key, value) in dict)
            {
                if (key is not string name)
                    throw new CheckpointException($"'{_path}': state dict key {PyRepr.Of(key)} is not a string; this is not a model state dict.");
                var tensor = value switch
                {
                    TorchTensorRef t => t,
                    PyOpaque o => throw new CheckpointException($"'{_path}': entry '{name}' is built by unsupported pickle global '{o.GlobalName}'; only torch tensors are read."),
                    _ => throw new CheckpointException($"'{_path}': entry '{name}' is a {PyRepr.TypeName(value)}, not a tensor; this is not a model state dict."),
                };
                result.Add(new(name, tensor));
            }
            if (result.Count == 0)
                throw new CheckpointException($"'{_path}' holds an empty state dict (no tensors).");
            return result;
        }

        private float[] Materialize(string name, TorchTensorRef t)
        {
            var storage = t.Storage;
            long count = 1;
            foreach (var d in t.Size) count = checked(count * d);
            if (count > Array.MaxLength)
                throw new CheckpointException($"'{_path}': tensor '{name}' has {count} elements, more than one .NET array can hold.");
            if (count == 0) { Release(storage); return []; }

            long last = t.Offset;
            for (int i = 0; i < t.Size.Length; i++)
            {
                if (t.Stride[i] < 0)
                    throw new CheckpointException($"'{_path}': tensor '{name}' has a negative stride ({string.Join(", ", t.Stride)}).");
                last += (t.Size[i] - 1) * t.Stride[i];
            }
            if (last >= storage.Numel)
                throw new CheckpointException(
                    $"'{_path}': tensor '{name}' (shape [{string.Join(", ", t.Size)}], offset {t.Offset}, stride [{string.Join(", ", t.Stride)}]) " +
                    $"reaches element {last} of storage '{storage.Key}', which holds only {storage.Numel} elements (corrupt checkpoint).");

            bool contiguous = IsRowMajor(t.Size, t.Stride);
            if (contiguous && t.Offset == 0 && count == storage.Numel && storage.DType == CheckpointDType.Float32
                && !_bigEndian && _storageUsesLeft[storage.Key] == 1 && !_storageCache.ContainsKey(storage.Key))
            {
                // Common case (a float32 tensor owning its storage): read the bytes straight into the result.
                var direct = new float[count];
                ReadStorageInto(storage, MemoryMarshal.AsBytes(direct.AsSpan()), name);
                Release(storage);
                return direct;
            }

            var raw = StorageBytes(storage, name);
            int elementSize = TensorConversion.ElementSize(storage.DType);
            float[] result;
            if (contiguous)
            {
                result = TensorConversion.ToFloat32(raw.AsSpan(checked((int)(t.Offset * elementSize)), checked((int)(count * elementSize))), storage.DType);
            }
            else
            {
                // Convert the storage window the view touches once, then gather it in row-major order.
                var window = TensorConversion.ToFloat32(raw.AsSpan(checked((int)(t.Offset * elementSize)), checked((int)((last - t.Offset + 1) * elementSize))), storage.DType);
                result = Gather(window, t.Size, t.Stride, count);
            }
            Release(storage);
            return result;
        }

        private static bool IsRowMajor(long[] size, long[] stride)
        {
            long expected = 1;
            for (int i = size.Length - 1; i >= 0; i--)
            {
                if (size[i] != 1 && stride[i] != expected) return false;
                expected *= size[i];
            }
            return true;
        }

        private static float[] Gather(float[] window, long[] size, long[] stride, long count)
        {
            var result = new float[count];
            int rank = size.Length;
            var index = new long[rank];
            long source = 0;
            for (long i = 0; i < count; i++)
            {
                result[i] = window[source];
                // Odometer increment over the dimensions, last fastest.
                for (int d = rank - 1; d >= 0; d--)
                {
                    if (++index[d] < size[d]) { source += stride[d]; break; }
                    source -= (size[d] - 1) * stride[d];
                    index[d] = 0;
                }
            }
            return result;
        }

        private byte[] StorageBytes(TorchStorageRef storage, string tensorName)
        {
            if (_storageCache.TryGetValue(storage.Key, out var cached)) return cached;
            long bytes = checked(storage.Numel * TensorConversion.ElementSize(storage.DType));
            if (bytes > Array.MaxLength)
                throw new CheckpointException($"'{_path}': storage '{storage.Key}' is {bytes} bytes, more than one .NET array can hold.");
            var raw = new byte[bytes];
            ReadStorageInto(storage, raw, tensorName);
            if (_bigEndian) SwapToLittleEndian(raw, TensorConversion.ElementSize(storage.DType));
            _storageCache[storage.Key] = raw;
            return raw;
        }

        /// <summary>Drops a cached storage once no remaining tensor views it, so peak memory stays near one copy.</summary>
        private void Release(TorchStorageRef storage)
        {
            if (--_storageUsesLeft[storage.Key] == 0) _storageCache.Remove(storage.Key);
        }

        private void ReadStorageInto(TorchStorageRef storage, Span<byte> destination, string tensorName)
        {
            var entryName = _prefix + "data/" + storage.Key;
            var entry = _zip.GetEntry(entryName)
                ?? throw new CheckpointException($"'{_path}' has no storage record '{entryName}' (needed by tensor '{tensorName}'); the checkpoint is incomplete or corrupt.");
            if (entry.Length < destination.Length)
                throw new CheckpointException(
                    $"'{_path}': storage record '{entryName}' (tensor '{tensorName}') has {entry.Length} bytes, but its {storage.Numel} × {storage.TypeName} elements need {destination.Length}; the checkpoint is truncated or corrupt.");
            try
            {
                using var s = entry.Open();
                s.ReadExactly(destination);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
            {
                throw new CheckpointException($"'{_path}': storage record '{entryName}' (tensor '{tensorName}') cannot be read; the file is truncated or corrupt ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}).", e);
            }
        }

        private byte[] ReadEntry(ZipArchiveEntry entry, long length)
        {
            if (length > Array.MaxLength)
                throw new CheckpointException($"'{_path}': record '{entry.FullName}' is implausibly large ({length} bytes).");
            var buffer = new byte[length];
            try
            {
                using var s = entry.Open();
                s.ReadExactly(buffer);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
            {
                throw new CheckpointException($"'{_path}': record '{entry.FullName}' cannot be read; the file is truncated or corrupt ({CoCa.MLNet.IO.ErrorText.AsClause(e.Message)}).", e);
            }
            return buffer;
        }

        private static void SwapToLittleEndian(byte[] raw, int elementSize)
        {
            if (elementSize == 1) return;
            for (int i = 0; i + elementSize <= raw.Length; i += elementSize)
                raw.AsSpan(i, elementSize).Reverse();
        }
    }
}
