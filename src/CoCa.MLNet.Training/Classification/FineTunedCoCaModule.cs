using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Pooling;
using CoCa.MLNet.Training.Modules;
using CoCa.MLNet.Training.Pooling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training.Classification;

/// <summary>
/// The fine-tuned classifier in TorchSharp: open_clip's CoCa vision trunk (its own attentional pooler, <c>ln_post</c> and
/// <c>proj</c> are kept but not trained: they make the contrastive embedding, which classification does not use) and a
/// new <see cref="AttentionalPoolerModule"/> + linear head over the trunk's tokens (of all frames, for video).
/// The lowest <see cref="FrozenBlocks"/> blocks (and then the stem) do not train.
/// </summary>
internal sealed class FineTunedCoCaModule : nn.Module<Tensor, Tensor>
{
    private readonly CoCaVisionModel visual;
    private readonly AttentionalPoolerModule pooler;

    public FineTunedCoCaModule(CoCaVisionModel visual, AttentionalPoolerModule pooler, int frozenBlocks) : base(nameof(FineTunedCoCaModule))
    {
        this.visual = visual;
        this.pooler = pooler;
        int layers = visual.VisionConfig.Layers;
        if (frozenBlocks < 0 || frozenBlocks > layers)
            throw new ArgumentOutOfRangeException(nameof(frozenBlocks), frozenBlocks, $"The vision tower has {layers} blocks.");
        FrozenBlocks = frozenBlocks;
        Frames = pooler.Config.Frames;
        RegisterComponents();
        foreach (var (name, p) in visual.named_parameters())
            p.requires_grad = TrainableEncoderParameters().Any(t => t.Name == name);
    }

    public CoCaVisionModel Visual => visual;
    public AttentionalPoolerModule Pooler => pooler;

    /// <summary>Lower blocks that do not train (the stem too when there are any).</summary>
    public int FrozenBlocks { get; }

    /// <summary>Frames per example (1 for images).</summary>
    public int Frames { get; }

    public int Layers => visual.VisionConfig.Layers;

    /// <summary>Logits [B, K] of pixels [B·F, 3, S, S] (the frames of an example back to back).</summary>
    public override Tensor forward(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        Tensor lower;
        if (FrozenBlocks > 0)
            using (torch.no_grad()) lower = LowerBlocks(pixels);
        else
            lower = visual.Embed(pixels);
        return scope.MoveToOuter(FromLowerBlocks(lower));
    }

    /// <summary>The stem and the frozen blocks: [B·F, T, D], what partial fine-tuning caches. Run under no_grad.</summary>
    public Tensor LowerBlocks(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(visual.RunBlocks(visual.Embed(pixels), 0, FrozenBlocks));
    }

    /// <summary>Logits [B, K] from the frozen part's output [B·F, T, D]: the trained blocks, then the pooler and head.</summary>
    public Tensor FromLowerBlocks(Tensor lower)
    {
        using var scope = NewDisposeScope();
        var tokens = visual.RunBlocks(lower, FrozenBlocks, Layers - FrozenBlocks);
        long frames = Frames, t = tokens.shape[1], d = tokens.shape[2];
        var pooled = pooler.forward(tokens.reshape(tokens.shape[0] / frames, frames * t, d));
        return scope.MoveToOuter(pooled);
    }

    /// <summary>
    /// The encoder's trained parameters by depth from the top: block L−1 is depth 0; the stem (trained only with every
    /// block) is depth L. Names are the vision tower's state-dict names (below <c>visual.</c>).
    /// </summary>
    public IEnumerable<(string Name, Parameter Parameter, int Depth)> TrainableEncoderParameters()
    {
        for (int block = Layers - 1; block >= FrozenBlocks; block--)
            foreach (var (name, p) in visual.BlockParameters(block))
                yield return (name, p, Layers - 1 - block);
        if (FrozenBlocks == 0)
            foreach (var (name, p) in visual.StemParameters())
                yield return (name, p, Layers);
    }

    /// <summary>Copies of the trained encoder parameters (to keep the best epoch's).</summary>
    public Dictionary<string, float[]> ExportEncoder()
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, p, _) in TrainableEncoderParameters())
            result[name] = p.detach().cpu().contiguous().data<float>().ToArray();
        return result;
    }

    /// <summary>Loads parameters saved by <see cref="ExportEncoder"/>.</summary>
    public void LoadEncoder(IReadOnlyDictionary<string, float[]> weights)
    {
        using var _ = torch.no_grad();
        foreach (var (name, p, _) in TrainableEncoderParameters())
        {
            using var source = torch.tensor(weights[name], p.shape);
            p.copy_(source);
        }
    }

    /// <summary>The whole vision tower under open_clip's names (<c>visual.*</c>), trained blocks included: what the ONNX writer reads.</summary>
    public StateDict VisionStateDict(string source)
    {
        var tensors = new List<CheckpointTensor>();
        using (torch.no_grad())
        {
            foreach (var (name, p) in visual.named_parameters())
            {
                using var cpu = p.detach().cpu().contiguous();
                tensors.Add(new CheckpointTensor(CoCaVisionModel.StateDictPrefix + name, cpu.shape, cpu.data<float>().ToArray()));
            }
        }
        return new StateDict(tensors, source);
    }

    /// <summary>The new pooler and head's weights (the frozen trainer's format, scored by its ONNX graph).</summary>
    public AttentionalPoolerWeights ExportPooler() => pooler.ExportWeights();
}
