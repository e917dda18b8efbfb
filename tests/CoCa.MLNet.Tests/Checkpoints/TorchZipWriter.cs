using System.IO.Compression;
using System.Runtime.InteropServices;

namespace CoCa.MLNet.Tests.Checkpoints;

/// <summary>
/// Builds torch.save zip checkpoints the way torch does, so the reader is tested against the real format without Python:
/// <c>&lt;root&gt;/data.pkl</c> pickling <c>OrderedDict</c>s of <c>torch._utils._rebuild_tensor_v2(storage, offset, size,
/// stride, False, OrderedDict())</c> whose storages are persistent ids <c>('storage', torch.HalfStorage, '0', 'cpu', numel)</c>
/// (BINPERSID), raw little-endian storages in <c>&lt;root&gt;/data/&lt;key&gt;</c>, plus <c>version</c> and <c>byteorder</c>.
/// </summary>
internal sealed class TorchZipWriter
{
    public sealed record Storage(string Key, string TypeName, byte[] Bytes, long Numel);
    public sealed record View(string Name, string StorageKey, long Offset, long[] Size, long[] Stride, bool AsParameter);

    private readonly Dictionary<string, Storage> _storages = new(StringComparer.Ordinal);
    private readonly List<View> _views = [];
    private readonly List<(string Name, Action<PickleEmitter> Emit)> _rawEntries = [];

    public string RootFolder { get; set; } = "archive";
    public int Protocol { get; set; } = 2;
    /// <summary>collections.OrderedDict (what model.state_dict() is) or a plain dict.</summary>
    public bool UseOrderedDict { get; set; } = true;
    /// <summary>Wrap as <c>{"epoch": 3, "name": ..., "state_dict": ...}</c> like an open_clip training checkpoint.</summary>
    public bool WrapInStateDictKey { get; set; }
    public string KeyPrefix { get; set; } = "";
    public string? ByteOrder { get; set; } = "little";
    /// <summary>Replaces the whole pickled object (for error tests).</summary>
    public Action<PickleEmitter>? RootOverride { get; set; }
    /// <summary>Storage keys to leave out of the zip (for error tests).</summary>
    public HashSet<string> OmitStorageRecords { get; } = [];

    public void AddStorage(string key, string typeName, byte[] bytes, long numel) => _storages[key] = new(key, typeName, bytes, numel);

    public void AddStorage(string key, float[] values) =>
        AddStorage(key, "FloatStorage", MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), values.Length);

    public void AddView(string name, string storageKey, long offset, long[] size, long[] stride, bool asParameter = false) =>
        _views.Add(new(name, storageKey, offset, size, stride, asParameter));

    /// <summary>A contiguous float32 tensor with its own storage.</summary>
    public void AddFloat32(string name, long[] shape, float[] values, bool asParameter = false)
    {
        var key = _storages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        AddStorage(key, values);
        AddView(name, key, 0, shape, RowMajorStrides(shape), asParameter);
    }

    /// <summary>A state-dict entry whose value is emitted by <paramref name="emit"/> (e.g. an unsupported global).</summary>
    public void AddRawEntry(string name, Action<PickleEmitter> emit) => _rawEntries.Add((name, emit));

    public static long[] RowMajorStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
        return strides;
    }

    public byte[] BuildPickle()
    {
        var p = new PickleEmitter(Protocol);
        if (RootOverride is not null) { RootOverride(p); return p.ToArray(); }
        if (WrapInStateDictKey)
        {
            p.EmptyDict().Put().Mark();
            p.String("epoch").Int(3);
            p.String("name").String("coca-run");
            p.String("lr").Float(1e-4);
            p.String("state_dict");
            EmitStateDict(p);
            p.SetItems();
        }
        else
        {
            EmitStateDict(p);
        }
        return p.ToArray();
    }

    private void EmitStateDict(PickleEmitter p)
    {
        if (UseOrderedDict) p.Global("collections", "OrderedDict").EmptyTuple().Reduce().Put();
        else p.EmptyDict().Put();
        p.Mark();
        foreach (var view in _views)
        {
            p.String(KeyPrefix + view.Name);
            EmitTensor(p, view);
        }
        foreach (var (name, emit) in _rawEntries)
        {
            p.String(KeyPrefix + name);
            emit(p);
        }
        p.SetItems();
        if (UseOrderedDict)
        {
            // torch.save stores the state dict's _metadata attribute through BUILD.
            p.EmptyDict().Put().String("_metadata").Global("collections", "OrderedDict").EmptyTuple().Reduce().Put().SetItem().Build();
        }
    }

    private void EmitTensor(PickleEmitter p, View view)
    {
        var storage = _storages[view.StorageKey];
        if (view.AsParameter) p.Global("torch._utils", "_rebuild_parameter").Mark();
        p.Global("torch._utils", "_rebuild_tensor_v2").Mark();
        p.Mark().String("storage").Global("torch", storage.TypeName).String(storage.Key).String("cpu").Int(storage.Numel).Tuple().Put().BinPersId();
        p.Int(view.Offset);
        EmitLongTuple(p, view.Size);
        EmitLongTuple(p, view.Stride);
        p.Bool(false);
        p.Global("collections", "OrderedDict").EmptyTuple().Reduce().Put();
        p.Tuple().Reduce().Put();
        if (view.AsParameter)
        {
            p.Bool(true).Global("collections", "OrderedDict").EmptyTuple().Reduce().Put();
            p.Tuple().Reduce().Put();
        }
    }

    private static void EmitLongTuple(PickleEmitter p, long[] values)
    {
        switch (values.Length)
        {
            case 0: p.EmptyTuple(); break;
            case 1: p.Int(values[0]).Op(0x85); break;
            case 2: p.Int(values[0]).Int(values[1]).Op(0x86); break;
            case 3: p.Int(values[0]).Int(values[1]).Int(values[2]).Op(0x87); break;
            default:
                p.Mark();
                foreach (var v in values) p.Int(v);
                p.Tuple();
                break;
        }
        p.Put();
    }

    public void Save(string path)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        // torch writes every record uncompressed.
        void Add(string name, byte[] bytes)
        {
            var entry = zip.CreateEntry(RootFolder + "/" + name, CompressionLevel.NoCompression);
            using var s = entry.Open();
            s.Write(bytes);
        }
        Add("data.pkl", BuildPickle());
        if (ByteOrder is not null) Add("byteorder", System.Text.Encoding.ASCII.GetBytes(ByteOrder));
        foreach (var storage in _storages.Values)
            if (!OmitStorageRecords.Contains(storage.Key)) Add("data/" + storage.Key, storage.Bytes);
        Add("version", "3\n"u8.ToArray());
    }
}
