using System.Globalization;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Checkpoints;

/// <summary>
/// Checks that a state dict holds exactly the tensors a CoCa config implies (keys and shapes, see
/// <see cref="CoCaStateDictLayout"/>), so a checkpoint paired with the wrong config fails early with a message naming
/// the first disagreeing key, its actual and expected shapes and the config, instead of failing deep inside export.
/// Every tensor of a validated tower must hold finite numbers: a NaN or ±Inf (a damaged file, or weights saved after
/// training diverged) is refused naming the tensor, instead of becoming NaN features.
/// </summary>
internal static class CheckpointValidator
{
    /// <summary>Validates <c>visual.*</c>.</summary>
    /// <exception cref="CheckpointException">A tensor is missing, mis-shaped, unexpected, or the block count differs.</exception>
    public static void ValidateVision(CoCaModelConfig config, StateDict stateDict) =>
        Validate(config, stateDict, "visual.", "visual.transformer.resblocks.", config.Vision.Layers, CoCaStateDictLayout.Vision(config),
            ["visual.conv1.weight", "visual.positional_embedding", "visual.class_embedding", "visual.proj", "visual.attn_pool.query",
             CoCaStateDictLayout.PoolerHasPackedInProjection(config) ? "visual.attn_pool.attn.in_proj_weight" : "visual.attn_pool.attn.k_proj_weight",
             "visual.ln_post.weight"]);

    /// <summary>Validates <c>text.*</c> (the unimodal text tower).</summary>
    /// <exception cref="CheckpointException">A tensor is missing, mis-shaped, unexpected, or the block count differs.</exception>
    public static void ValidateText(CoCaModelConfig config, StateDict stateDict) =>
        Validate(config, stateDict, "text.", "text.transformer.resblocks.", config.Text.Layers, CoCaStateDictLayout.Text(config),
            ["text.token_embedding.weight", "text.positional_embedding", "text.cls_emb", "text.text_projection", "text.ln_final.weight"]);

    /// <summary>Validates both towers.</summary>
    public static void Validate(CoCaModelConfig config, StateDict stateDict)
    {
        ValidateVision(config, stateDict);
        ValidateText(config, stateDict);
    }

    private static void Validate(CoCaModelConfig config, StateDict sd, string towerPrefix, string blockPrefix, int layers,
        IReadOnlyList<TensorSpec> specs, string[] keyTensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sd);
        var byName = specs.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var present = sd.KeysWithPrefix(towerPrefix).ToList();
        if (present.Count == 0)
            throw new CheckpointException(
                $"Checkpoint '{sd.Source}' has no {towerPrefix}* tensors, so it is not an open_clip CoCa checkpoint for config '{config.Name}' " +
                $"(it has {sd.Count} tensors, e.g. {string.Join(", ", sd.Keys.Take(3).Select(k => "'" + k + "'"))}).");

        // The most telling tensors first: their shapes say which config the checkpoint really belongs to.
        foreach (var key in keyTensors)
            if (byName.TryGetValue(key, out var spec)) Check(config, sd, spec);

        var blocks = present
            .Where(k => k.StartsWith(blockPrefix, StringComparison.Ordinal))
            .Select(k => k[blockPrefix.Length..])
            .Select(rest => rest[..Math.Max(0, rest.IndexOf('.'))])
            .Select(index => int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1)
            .Where(i => i >= 0)
            .Distinct()
            .ToList();
        if (blocks.Count != layers || (blocks.Count > 0 && blocks.Max() != layers - 1))
            throw new CheckpointException(
                $"Checkpoint '{sd.Source}' belongs to another config: it has {blocks.Count} {blockPrefix.TrimEnd('.')} blocks" +
                (blocks.Count > 0 ? $" (indices {blocks.Min()}..{blocks.Max()})" : "") +
                $", config '{config.Name}' has {layers} layers.");

        foreach (var spec in specs) Check(config, sd, spec);

        var unexpected = present.Where(k => !byName.ContainsKey(k)).ToList();
        if (unexpected.Count > 0)
            throw new CheckpointException(
                $"Checkpoint '{sd.Source}' belongs to another config or an unsupported model variant: it has tensor '{unexpected[0]}' " +
                $"{sd[unexpected[0]].ShapeText}, which config '{config.Name}' does not have" +
                (unexpected.Count > 1 ? $" ({unexpected.Count} unexpected {towerPrefix}* tensors in all)." : "."));

        foreach (var spec in specs) CheckFinite(sd, sd[spec.Name]);
        if (sd.TryGetValue(CoCaStateDictLayout.LogitScale, out var logitScale)) CheckFinite(sd, logitScale);
    }

    /// <summary>Refuses a tensor holding NaN or ±Inf, naming it, the first such element and how many there are.</summary>
    internal static void CheckFinite(StateDict sd, CheckpointTensor tensor)
    {
        var data = tensor.Data.AsSpan();
        int first = -1;
        for (int i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
            {
                first = i;
                break;
            }
        }
        if (first < 0) return;
        int count = 0;
        foreach (var v in data[first..]) if (!float.IsFinite(v)) count++;
        string what = float.IsNaN(data[first]) ? "NaN" : data[first] > 0 ? "+Inf" : "-Inf";
        throw new CheckpointException(
            $"Checkpoint '{sd.Source}' tensor '{tensor.Name}' {tensor.ShapeText} holds {what} at flat index {first} " +
            $"({count} non-finite value{(count == 1 ? "" : "s")} in all); expected finite weights (the file is damaged, or was saved after training diverged).");
    }

    private static void Check(CoCaModelConfig config, StateDict sd, TensorSpec spec)
    {
        if (!sd.TryGetValue(spec.Name, out var actual))
            throw new CheckpointException(
                $"Checkpoint '{sd.Source}' has no tensor '{spec.Name}', which config '{config.Name}' needs (expected shape {spec.ShapeText}).");
        if (!actual.HasShape(spec.Shape))
            throw new CheckpointException(
                $"Checkpoint '{sd.Source}' belongs to another config: tensor '{spec.Name}' has shape {actual.ShapeText}, " +
                $"but config '{config.Name}' expects {spec.ShapeText}.");
    }
}
