namespace CoCa.MLNet.Checkpoints;

/// <summary>A tensor storage named by a torch.save persistent id: <c>('storage', torch.FloatStorage, key, location, numel)</c>.</summary>
internal sealed record TorchStorageRef(string Key, CheckpointDType DType, string TypeName, string Location, long Numel);

/// <summary>A (possibly strided) view of a storage, as built by <c>torch._utils._rebuild_tensor_v2</c>.</summary>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long Offset, long[] Size, long[] Stride)
{
    public override string ToString() => $"tensor[{string.Join(", ", Size)}] of {Storage.TypeName}";
}

/// <summary>
/// The allow-list of pickle globals a torch.save state dict needs. Anything else resolves to an inert
/// <see cref="PyOpaque"/> that records its name; no global is ever looked up by reflection or executed.
/// </summary>
internal static class TorchPickleGlobals
{
    private static readonly Dictionary<string, CheckpointDType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["torch.FloatStorage"] = CheckpointDType.Float32,
        ["torch.HalfStorage"] = CheckpointDType.Float16,
        ["torch.BFloat16Storage"] = CheckpointDType.BFloat16,
        ["torch.DoubleStorage"] = CheckpointDType.Float64,
        ["torch.LongStorage"] = CheckpointDType.Int64,
        ["torch.IntStorage"] = CheckpointDType.Int32,
        ["torch.ByteStorage"] = CheckpointDType.UInt8,
        ["torch.BoolStorage"] = CheckpointDType.Bool,
    };

    private static readonly Dictionary<string, object> Callables = new IPyCallable[]
    {
        new Function("collections.OrderedDict", NewOrderedDict),
        new Function("torch._utils._rebuild_tensor_v2", RebuildTensor),
        new Function("torch._utils._rebuild_tensor", RebuildTensor),
        new Function("torch._utils._rebuild_parameter", RebuildParameter),
        new Function("torch._utils._rebuild_parameter_with_state", RebuildParameter),
        new Function("torch._tensor._rebuild_from_type_v2", RebuildFromType),
    }.ToDictionary(c => c.QualifiedName, c => (object)c, StringComparer.Ordinal);

    /// <summary>Classes that only appear as the <c>new_type</c> argument of _rebuild_from_type_v2.</summary>
    private static readonly HashSet<string> TensorTypes = new(StringComparer.Ordinal)
    {
        "torch.Tensor", "torch._tensor.Tensor", "torch.nn.parameter.Parameter",
    };

    public static object Find(string module, string name)
    {
        var qualified = module + "." + name;
        if (Callables.TryGetValue(qualified, out var callable)) return callable;
        if (StorageTypes.TryGetValue(qualified, out var dtype)) return new StorageType(qualified, dtype);
        if (TensorTypes.Contains(qualified)) return new TensorType(qualified);
        return new PyOpaque(qualified);
    }

    /// <summary>Persistent id → storage reference; the bytes are read later, only for tensors that are used.</summary>
    public static TorchStorageRef LoadPersistent(object? pid, string source)
    {
        if (pid is not PyTuple { Count: 5 } t || t[0] is not "storage")
            throw new CheckpointException($"{source}: unsupported persistent id {PyRepr.Of(pid)}; expected ('storage', type, key, location, numel) as torch.save writes.");
        var type = t[1] switch
        {
            StorageType s => s,
            PyOpaque o => throw new CheckpointException($"{source}: unsupported storage type '{o.GlobalName}' (storage key {PyRepr.Of(t[2])}); supported: {string.Join(", ", StorageTypes.Keys)}."),
            var other => throw new CheckpointException($"{source}: storage type {PyRepr.Of(other)} is not a torch storage class."),
        };
        var key = t[2] switch
        {
            string s => s,
            long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
            var other => throw new CheckpointException($"{source}: storage key {PyRepr.Of(other)} is not a string."),
        };
        var location = t[3] as string ?? "";
        if (t[4] is not long numel || numel < 0)
            throw new CheckpointException($"{source}: storage '{key}' has element count {PyRepr.Of(t[4])}, expected a non-negative integer.");
        return new TorchStorageRef(key, type.DType, type.QualifiedName, location, numel);
    }

    private static object NewOrderedDict(object?[] args, string source)
    {
        var dict = new PyDict();
        if (args.Length == 1 && args[0] is List<object?> pairs)
        {
            foreach (var pair in pairs)
            {
                if (pair is not PyTuple { Count: 2 } kv) throw new CheckpointException($"{source}: OrderedDict item {PyRepr.Of(pair)} is not a (key, value) pair.");
                dict.Set(kv[0], kv[1], source);
            }
        }
        else if (args.Length != 0)
        {
            throw new CheckpointException($"{source}: OrderedDict called with unexpected arguments.");
        }
        return dict;
    }

    /// <summary><c>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None)</c>.</summary>
    private static object RebuildTensor(object?[] args, string source)
    {
        if (args.Length < 4)
            throw new CheckpointException($"{source}: _rebuild_tensor_v2 got {args.Length} arguments, expected at least 4 (storage, offset, size, stride).");
        var storage = args[0] switch
        {
            TorchStorageRef s => s,
            PyOpaque o => throw new CheckpointException($"{source}: a tensor's storage comes from unsupported pickle global '{o.GlobalName}'."),
            var other => throw new CheckpointException($"{source}: a tensor's storage is a {PyRepr.TypeName(other)}, not a torch storage."),
        };
        if (args[1] is not long offset || offset < 0)
            throw new CheckpointException($"{source}: tensor storage offset {PyRepr.Of(args[1])} is not a non-negative integer.");
        var size = Longs(args[2], "size", source);
        var stride = Longs(args[3], "stride", source);
        if (size.Length != stride.Length)
            throw new CheckpointException($"{source}: tensor size {PyRepr.Of(args[2])} and stride {PyRepr.Of(args[3])} have different ranks.");
        return new TorchTensorRef(storage, offset, size, stride);
    }

    /// <summary><c>_rebuild_parameter(data, requires_grad, backward_hooks)</c>: a Parameter is its data here.</summary>
    private static object? RebuildParameter(object?[] args, string source) =>
        args.Length >= 1 && args[0] is TorchTensorRef t ? t
            : throw new CheckpointException($"{source}: _rebuild_parameter's data is {(args.Length == 0 ? "missing" : PyRepr.TypeName(args[0]))}, not a tensor.");

    /// <summary><c>_rebuild_from_type_v2(func, new_type, args, state)</c> for plain Tensor/Parameter types only.</summary>
    private static object? RebuildFromType(object?[] args, string source)
    {
        if (args.Length < 3 || args[0] is not IPyCallable func || args[2] is not PyTuple inner)
            throw new CheckpointException($"{source}: malformed _rebuild_from_type_v2 call.");
        if (args[1] is not TensorType)
            throw new CheckpointException($"{source}: tensor subclass {PyRepr.Of(args[1])} is not supported (plain tensors and Parameters only).");
        return func.Call(inner.Items, source);
    }

    private static long[] Longs(object? value, string what, string source)
    {
        if (value is PyTuple t && t.Items.All(i => i is long))
        {
            var result = t.Items.Select(i => (long)i!).ToArray();
            if (what == "size" && result.Any(d => d < 0))
                throw new CheckpointException($"{source}: tensor size {t} has a negative dimension.");
            return result;
        }
        throw new CheckpointException($"{source}: tensor {what} {PyRepr.Of(value)} is not a tuple of integers.");
    }

    private sealed class Function(string qualifiedName, Func<object?[], string, object?> body) : IPyCallable
    {
        public string QualifiedName { get; } = qualifiedName;
        public object? Call(object?[] args, string source) => body(args, source);
        public override string ToString() => QualifiedName;
    }

    /// <summary>A storage class such as torch.HalfStorage: only meaningful inside a persistent id, never called.</summary>
    private sealed record StorageType(string QualifiedName, CheckpointDType DType)
    {
        public override string ToString() => QualifiedName;
    }

    private sealed record TensorType(string QualifiedName)
    {
        public override string ToString() => QualifiedName;
    }
}
