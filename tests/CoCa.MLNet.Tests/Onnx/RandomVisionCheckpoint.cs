using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Tests.Onnx;

/// <summary>
/// Random open_clip CoCa image-tower weights with the exact open_clip key names, for configs other than the fixture.
/// Scales keep activations O(1) (weights ~ N(0, 1/fan_in)) so attention is neither uniform nor one-hot.
/// </summary>
internal static class RandomVisionCheckpoint
{
    public static List<CheckpointTensor> Tensors(CoCaModelConfig config, int seed)
    {
        var rng = new Random(seed);
        var v = config.Vision;
        int w = v.Width, e = config.EmbedDim, p = v.PatchSize, g = v.ImageSize / p, t = 1 + g * g, mlp = (int)(w * v.MlpRatio), n = v.AttnPoolerQueries;
        var list = new List<CheckpointTensor>();
        void Add(string name, double std, double mean, params long[] shape) => list.Add(Gaussian(rng, name, std, mean, shape));
        void Weight(string name, long outDim, long inDim) => Add(name, 1 / Math.Sqrt(inDim), 0, outDim, inDim);
        void Norm(string prefix, long dim) { Add(prefix + ".weight", 0.2, 1, dim); Add(prefix + ".bias", 0.2, 0, dim); }

        Add("visual.class_embedding", 1, 0, w);
        Add("visual.positional_embedding", 0.5, 0, t, w);
        Add("visual.proj", 1 / Math.Sqrt(e), 0, e, e);
        Add("visual.conv1.weight", 1 / Math.Sqrt(3 * p * p), 0, w, 3, p, p);
        Norm("visual.ln_pre", w);
        for (int l = 0; l < v.Layers; l++)
        {
            var b = $"visual.transformer.resblocks.{l}";
            Norm(b + ".ln_1", w);
            Weight(b + ".attn.in_proj_weight", 3 * w, w);
            Add(b + ".attn.in_proj_bias", 0.1, 0, 3 * w);
            Weight(b + ".attn.out_proj.weight", w, w);
            Add(b + ".attn.out_proj.bias", 0.1, 0, w);
            Norm(b + ".ln_2", w);
            Weight(b + ".mlp.c_fc.weight", mlp, w);
            Add(b + ".mlp.c_fc.bias", 0.1, 0, mlp);
            Weight(b + ".mlp.c_proj.weight", w, mlp);
            Add(b + ".mlp.c_proj.bias", 0.1, 0, w);
        }
        Add("visual.attn_pool.query", 1, 0, n, e);
        if (w == e)
            Weight("visual.attn_pool.attn.in_proj_weight", 3 * e, e);   // PyTorch packs q/k/v when kdim == embed_dim
        else
        {
            Weight("visual.attn_pool.attn.q_proj_weight", e, e);
            Weight("visual.attn_pool.attn.k_proj_weight", e, w);
            Weight("visual.attn_pool.attn.v_proj_weight", e, w);
        }
        Add("visual.attn_pool.attn.in_proj_bias", 0.1, 0, 3 * e);
        Weight("visual.attn_pool.attn.out_proj.weight", e, e);
        Add("visual.attn_pool.attn.out_proj.bias", 0.1, 0, e);
        Norm("visual.attn_pool.ln_q", e);
        Norm("visual.attn_pool.ln_k", w);
        Norm("visual.ln_post", e);
        // Other towers' keys must be ignored by the vision converter.
        Add("logit_scale", 0, 4.6);
        Add("text.positional_embedding", 1, 0, 3, 4);
        return list;
    }

    public static StateDict Create(CoCaModelConfig config, int seed) => new(Tensors(config, seed), $"random-vision-seed{seed}");

    public static float[] Pixels(int batch, int imageSize, int seed)
    {
        var rng = new Random(seed);
        var data = new float[batch * 3 * imageSize * imageSize];
        for (int i = 0; i < data.Length; i++) data[i] = (float)NextGaussian(rng);
        return data;
    }

    public static CheckpointTensor Gaussian(Random rng, string name, double std, double mean, params long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var data = new float[count];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(mean + std * NextGaussian(rng));
        return new CheckpointTensor(name, shape, data);
    }

    private static double NextGaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
