using TorchSharp;
using static TorchSharp.torch;

namespace CoCa.MLNet.Training;

/// <summary>
/// A linear layer in bfloat16 over float32 master weights, as one autograd node that keeps the float32 weight itself
/// (the parameter, no copy) for the backward pass and casts it to bfloat16 again there.
/// </summary>
/// <remarks>
/// Why: through autograd, <c>linear(x.to(bf16), w.to(bf16))</c> keeps the bfloat16 copy of every weight from the forward
/// pass to its backward (0.5 GB for <c>coca_ViT-B-32</c>; autocast keeps them too), on top of the float32 weights.
/// Casting again costs one pass over the weights per step. The products are the ones autograd runs, in bfloat16: input
/// gradient gy·W, weight gradient gyᵀ·x (made bfloat16, returned float32), bias gradient Σ gy.
/// </remarks>
internal static class BFloat16Linear
{
    /// <summary><c>input @ weightᵀ + bias</c> with bfloat16 operands and output; weight and bias float32.</summary>
    /// <param name="input">[..., in], float32 or bfloat16.</param>
    /// <param name="weight">[out, in], float32.</param>
    /// <param name="bias">[out], float32, or null.</param>
    /// <param name="lowInput">
    /// The bfloat16 copy of a float32 <paramref name="input"/> (no gradient) when the caller made it to share among
    /// several layers that read the same input (cross-attention's keys and values): each layer keeps this one copy
    /// instead of its own. The input's gradient still flows to <paramref name="input"/> in float32.
    /// </param>
    public static Tensor Apply(Tensor input, Tensor weight, Tensor? bias, Tensor? lowInput = null) =>
        Function.apply(new Call(input.dtype, input.requires_grad, weight.requires_grad, bias is { requires_grad: true }), input, weight,
            bias ?? (object)CustomAutogradNodes.Absent.Value, lowInput ?? (object)CustomAutogradNodes.Absent.Value);

    private sealed record Call(ScalarType InputType, bool InputNeedsGradient, bool WeightNeedsGradient, bool BiasNeedsGradient);

    private sealed class Function : torch.autograd.SingleTensorFunction<Function>
    {
        private const string CallKey = "call";
        private const string LowInputKey = "input";

        public override string Name => "BFloat16Linear";

        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var call = (Call)vars[0];
            var input = (Tensor)vars[1];
            var weight = (Tensor)vars[2];
            var bias = vars[3] as Tensor;
            var shared = vars[4] as Tensor;
            using var scope = NewDisposeScope();
            bool lowInput = input.dtype == ScalarType.BFloat16;
            // A shared copy gets this node's own handle (detach: same storage), which backward disposes.
            var x = lowInput ? input : shared?.detach() ?? input.to(ScalarType.BFloat16);
            var output = nn.functional.linear(x, weight.to(ScalarType.BFloat16), bias?.to(ScalarType.BFloat16));
            ctx.save_data(CallKey, call);
            // The weight gradient needs the bfloat16 input: a bfloat16 input is saved as it is, a float32 one as its
            // bfloat16 copy (half its bytes, as autograd saves it), kept past the caller's dispose scopes until backward.
            ctx.save_for_backward(call.WeightNeedsGradient && lowInput ? [weight, input] : [weight]);
            // (In a one-element array: TorchSharp's save_data warns on the console when handed a tensor itself.)
            if (call.WeightNeedsGradient && !lowInput) ctx.save_data(LowInputKey, new[] { scope.Detach(x) });
            return scope.MoveToOuter(output);
        }

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            var call = (Call)ctx.get_data(CallKey);
            var copied = call.WeightNeedsGradient && call.InputType != ScalarType.BFloat16 ? ((Tensor[])ctx.get_data(LowInputKey))[0] : null;
            var result = new List<Tensor?> { null };   // the arguments: call, input, weight, bias, shared copy
            using (var scope = NewDisposeScope())
            {
                var saved = ctx.get_saved_variables();
                var weight = saved[0];
                var x = copied ?? (call.WeightNeedsGradient ? saved[1] : null);
                var gy = grad_output.to(ScalarType.BFloat16);
                Tensor? input = null, weightGradient = null, biasGradient = null;
                if (call.InputNeedsGradient)
                    input = gy.matmul(weight.to(ScalarType.BFloat16)).to(call.InputType);
                var rows = gy.reshape(-1, gy.shape[^1]);
                if (call.WeightNeedsGradient)
                    weightGradient = rows.t().matmul(x!.reshape(-1, x.shape[^1])).to(ScalarType.Float32);
                if (call.BiasNeedsGradient)
                    biasGradient = rows.sum([0L]).to(ScalarType.Float32);   // ([0L]: a bare 0 would pick the sum(ScalarType) overload)
                foreach (var t in new[] { input, weightGradient, biasGradient }) if (t is not null) scope.Detach(t);
                result.Add(input);
                result.Add(weightGradient);
                result.Add(biasGradient);
                result.Add(null);
            }
            copied?.Dispose();
            grad_output.Dispose();   // libtorch keeps its own reference
            CustomAutogradNodes.HandOver(result.OfType<Tensor>().ToList());
            return result!;
        }
    }
}
