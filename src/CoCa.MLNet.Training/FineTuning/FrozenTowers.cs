using CoCa.MLNet.Training.Modules;
using TorchSharp.Modules;

namespace CoCa.MLNet.Training.FineTuning;

/// <summary>
/// Which of a CoCa's parameters a fine-tuning run trains: all but those of the towers it freezes
/// (<see cref="CoCaFineTuneOptions.FreezeVision"/>, <see cref="CoCaFineTuneOptions.FreezeText"/>,
/// <see cref="CoCaFineTuneOptions.FreezeDecoder"/>), chosen by open_clip's state-dict prefixes.
/// </summary>
internal static class FrozenTowers
{
    /// <summary>Marks the frozen towers' parameters as not requiring gradients; returns the trainable ones by name.</summary>
    public static List<(string Name, Parameter Parameter)> Apply(CoCaModel model, CoCaFineTuneOptions options)
    {
        var trainable = new List<(string, Parameter)>();
        foreach (var (name, p) in model.named_parameters())
        {
            bool frozen = (options.FreezeVision && name.StartsWith("visual.", StringComparison.Ordinal))
                || (options.FreezeText && name.StartsWith("text.", StringComparison.Ordinal))
                || (options.FreezeDecoder && name.StartsWith("text_decoder.", StringComparison.Ordinal));
            p.requires_grad = !frozen;
            if (!frozen) trainable.Add((name, p));
        }
        return trainable;
    }
}
