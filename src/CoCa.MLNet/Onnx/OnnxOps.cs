namespace CoCa.MLNet.Onnx;

/// <summary>Typed shorthands for the ONNX operators the CoCa graphs use (opset 17 signatures).</summary>
internal static class OnnxOps
{
    public static string Add(this OnnxGraphBuilder g, string a, string b) => g.Node("Add", [a, b]);
    public static string Sub(this OnnxGraphBuilder g, string a, string b) => g.Node("Sub", [a, b]);
    public static string Mul(this OnnxGraphBuilder g, string a, string b) => g.Node("Mul", [a, b]);
    public static string Div(this OnnxGraphBuilder g, string a, string b) => g.Node("Div", [a, b]);
    public static string MatMul(this OnnxGraphBuilder g, string a, string b) => g.Node("MatMul", [a, b]);
    public static string Erf(this OnnxGraphBuilder g, string x) => g.Node("Erf", [x]);

    /// <summary>Reshape with a constant target shape; 0 copies the input's dimension, -1 is inferred.</summary>
    public static string Reshape(this OnnxGraphBuilder g, string x, params long[] shape) => g.Node("Reshape", [x, g.Int64s(shape)]);

    public static string Transpose(this OnnxGraphBuilder g, string x, params long[] perm) =>
        g.Node("Transpose", [x], OnnxAttribute.Ints("perm", perm));

    public static string Softmax(this OnnxGraphBuilder g, string x, long axis = -1) =>
        g.Node("Softmax", [x], OnnxAttribute.Int("axis", axis));

    public static string Concat(this OnnxGraphBuilder g, long axis, params string[] inputs) =>
        g.Node("Concat", inputs, OnnxAttribute.Int("axis", axis));

    /// <summary>Element <paramref name="index"/> along <paramref name="axis"/>; that axis is removed.</summary>
    public static string Gather(this OnnxGraphBuilder g, string x, long index, long axis) =>
        g.Node("Gather", [x, g.ScalarInt64(index)], OnnxAttribute.Int("axis", axis));

    /// <summary>x[start:end] along <paramref name="axis"/> (end may be long.MaxValue for "to the end").</summary>
    public static string Slice(this OnnxGraphBuilder g, string x, long start, long end, long axis) =>
        g.Node("Slice", [x, g.Int64s(start), g.Int64s(end), g.Int64s(axis)]);

    /// <summary>Dimensions [start, end) of x's shape as a 1-D int64 tensor (Shape-15 start/end attributes).</summary>
    public static string Shape(this OnnxGraphBuilder g, string x, long start, long end) =>
        g.Node("Shape", [x], OnnxAttribute.Int("start", start), OnnxAttribute.Int("end", end));

    public static string Expand(this OnnxGraphBuilder g, string x, string shape) => g.Node("Expand", [x, shape]);
}
