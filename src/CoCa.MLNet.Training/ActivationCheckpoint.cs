using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training;

/// <summary>
/// Activation checkpointing (<c>torch.utils.checkpoint</c>) for one transformer block: the forward pass runs without
/// recording the block's intermediate tensors and keeps only its inputs; the backward pass runs the block again with
/// gradients on and back-propagates the incoming gradient through it. Memory for activations then grows with the
/// number of blocks times one block input, instead of everything every block computes, at the price of a second
/// forward pass per block.
/// </summary>
/// <remarks>
/// The block's trainable parameters are inputs of the autograd node, so their gradients go through libtorch's engine
/// (and accumulate into <c>.grad</c> as a plain step's do) even where no block input needs a gradient (the first trained
/// block over cached features). The recomputation runs at the precision of the original forward pass; the blocks have
/// no dropout or other randomness, so it recomputes exactly what the forward pass computed.
/// </remarks>
internal static class ActivationCheckpoint
{
    /// <summary>
    /// <paramref name="block"/> applied to <paramref name="inputs"/> (tensors, or null for an absent one such as a
    /// mask), checkpointed when gradients are being recorded and something needs one; otherwise a plain call.
    /// </summary>
    /// <param name="block">The block's forward pass over the inputs, in the same order. It must use no trainable tensors but <paramref name="parameters"/>.</param>
    /// <param name="inputs">The block's tensor inputs; only these are kept for the backward pass.</param>
    /// <param name="parameters">The block's parameters (those not requiring gradients are left out).</param>
    public static Tensor Run(Func<Tensor?[], Tensor> block, Tensor?[] inputs, IEnumerable<Tensor> parameters)
    {
        var trained = parameters.Where(p => p.requires_grad).ToArray();
        if (!torch.is_grad_enabled() || (trained.Length == 0 && !inputs.Any(i => i is not null && i.requires_grad)))
            return block(inputs);
        var call = new Call(block, trained, MixedPrecision.Current,
            inputs.Select(i => i is not null).ToArray(), inputs.Select(i => i is not null && i.requires_grad).ToArray());
        var args = new object[1 + inputs.Length + trained.Length];
        args[0] = call;
        for (int i = 0; i < inputs.Length; i++) args[1 + i] = inputs[i] ?? (object)CustomAutogradNodes.Absent.Value;
        trained.CopyTo(args, 1 + inputs.Length);
        return CheckpointFunction.apply(args);
    }

    /// <summary>What the backward pass needs besides the saved inputs.</summary>
    private sealed record Call(Func<Tensor?[], Tensor> Block, Tensor[] Parameters, TrainingPrecision Precision, bool[] InputPresent, bool[] InputNeedsGradient)
    {
        public int InputCount => InputPresent.Length;
    }

    /// <summary>The autograd node. Arguments: the <see cref="Call"/>, the block's inputs, then its trained parameters.</summary>
    internal sealed class CheckpointFunction : torch.autograd.SingleTensorFunction<CheckpointFunction>
    {
        private const string CallKey = "call";

        public override string Name => "CheckpointedBlock";

        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var call = (Call)vars[0];
            var inputs = new Tensor?[call.InputCount];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = vars[1 + i] as Tensor;
            ctx.save_data(CallKey, call);
            ctx.save_for_backward(inputs.Where(i => i is not null).Select(i => i!).ToList());
            return call.Block(inputs);   // libtorch runs forward with gradients off: nothing inside is recorded
        }

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            CustomAutogradNodes.Release();
            var call = (Call)ctx.get_data(CallKey);
            var result = new List<Tensor?> { null };   // no gradient for the Call
            using (var scope = NewDisposeScope())
            {
                var saved = ctx.get_saved_variables();
                var inputs = new Tensor?[call.InputCount];
                var wrt = new List<Tensor>();
                for (int i = 0, s = 0; i < call.InputCount; i++)
                {
                    if (!call.InputPresent[i]) continue;
                    inputs[i] = saved[s++].detach();
                    if (call.InputNeedsGradient[i]) wrt.Add(inputs[i]!.requires_grad_());
                }
                wrt.AddRange(call.Parameters);

                Tensor output;
                using (torch.enable_grad())
                using (MixedPrecision.Enter(call.Precision))
                    output = call.Block(inputs);
                var computed = torch.autograd.grad([output], wrt, [grad_output]);
                scope.Detach(computed);

                int next = 0;
                for (int i = 0; i < call.InputCount; i++)
                    result.Add(call.InputNeedsGradient[i] ? computed[next++] : null);
                for (int p = 0; p < call.Parameters.Length; p++) result.Add(computed[next++]);
            }
            grad_output.Dispose();   // libtorch keeps its own reference; this wrapper would live until the caller's dispose scope ends
            CustomAutogradNodes.HandOver(result.OfType<Tensor>().ToList());
            return result!;
        }
    }
}
