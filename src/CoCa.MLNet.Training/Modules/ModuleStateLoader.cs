using CoCa.MLNet.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Modules;

/// <summary>Copies an open_clip <see cref="StateDict"/> into a TorchSharp module whose parameter names match it.</summary>
internal static class ModuleStateLoader
{
    /// <summary>
    /// For every parameter and buffer <c>name</c> of <paramref name="module"/>, copies the checkpoint tensor
    /// <c>prefix + name</c>, checking its shape (<see cref="StateDict.Get"/> names key and expected shape on failure).
    /// Every module tensor is therefore loaded; afterwards the checkpoint keys under <paramref name="prefix"/> that
    /// the module has no place for are reported as an error, like PyTorch's strict <c>load_state_dict</c>.
    /// </summary>
    /// <returns>The number of tensors copied.</returns>
    public static int Load(nn.Module module, StateDict stateDict, string prefix)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentNullException.ThrowIfNull(prefix);

        var targets = module.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
            .Concat(module.named_buffers().Select(b => (b.name, b.buffer)))
            .ToList();
        var used = new HashSet<string>(StringComparer.Ordinal);
        using (torch.no_grad())
        {
            foreach (var (name, target) in targets)
            {
                var key = prefix + name;
                var source = stateDict.Get(key, target.shape);
                using var scope = NewDisposeScope();
                var values = torch.tensor(source.Data, target.shape, dtype: ScalarType.Float32);
                target.copy_(values);
                used.Add(key);
            }
        }

        var unused = stateDict.KeysWithPrefix(prefix).Where(k => !used.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unused.Count > 0)
        {
            const int shown = 8;
            var list = string.Join(", ", unused.Take(shown)) + (unused.Count > shown ? $", … ({unused.Count - shown} more)" : "");
            throw new CheckpointException(
                $"Checkpoint '{stateDict.Source}' has {unused.Count} tensor(s) under '{prefix}' that the {module.GetType().Name} " +
                $"built from the configuration does not have: {list}. The configuration does not fit the checkpoint.");
        }
        return targets.Count;
    }
}
