using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Onnx.Blocks;

namespace CoCa.MLNet.Onnx.Towers;

/// <summary>
/// Writes open_clip's CoCa captioner — the multimodal text decoder (<c>text_decoder.*</c>) fed by the unimodal text
/// tower's token outputs (<c>text.*</c>, as <c>CoCa.forward</c> and <c>generate()</c> feed it) — as two ONNX models
/// with a key/value cache:
/// <list type="number">
/// <item><b>image side</b> (<see cref="CreateImageGraph"/>): input <c>caption_tokens</c> [B_img, N, E] (the vision
/// model's output of that name); outputs, per decoder layer i, the cross-attention keys <c>cross_key.i</c>
/// [B_img, H, hd, N] (transposed) and values <c>cross_value.i</c> [B_img, H, N, hd]: computed once per image.</item>
/// <item><b>step</b> (<see cref="CreateStepGraph"/>): inputs <c>input_ids</c> int64 [B, S] (the S new tokens),
/// <c>past_key.{text|decoder}.i</c> / <c>past_value.…</c> [B, H, P, hd] (the self-attention keys/values of the P earlier
/// positions of every text-tower and decoder layer; P = 0 for the first call), and the image side's outputs
/// [B_img, …] with B = B_img · k (k adjacent rows per image, e.g. beams); outputs <c>logits</c> [B, vocab] of the last
/// new position and <c>present_key.…</c> / <c>present_value.…</c> [B, H, P+S, hd]. One graph serves the prefill
/// (S = prompt length, P = 0) and every step (S = 1); a step costs O(P), not a rerun of the prefix. Calling it with
/// P = 0 and the whole prefix gives open_clip's no-cache computation.</item>
/// </list>
/// The step: token embedding + positional embedding of positions P…P+S−1; the text tower's causal blocks (the cls
/// token that open_clip appends after the text is never seen by earlier positions, so it is left out); then per decoder
/// layer a causal self-attention block and a cross-attention block (<c>ln_1_kv</c> on the image tokens); ln_final of the
/// last position; <c>text_decoder.text_projection</c>. open_clip can caption only when text width = multimodal width =
/// embed_dim; other checkpoints get a <see cref="CoCaConfigException"/> saying so.
/// </summary>
internal static class CaptionDecoderOnnx
{
    public const string CaptionTokens = "caption_tokens";
    public const string InputIds = "input_ids";
    public const string Logits = "logits";
    public const string ImageBatchDim = "image_batch";
    public const string BatchDim = "batch";
    public const string ImageKind = "caption_image";
    public const string StepKind = "caption_step";

    private const string TextPrefix = "text";
    private const string DecoderPrefix = "text_decoder";

    /// <summary>A self-attention cache slot: which tower, which layer, its head count.</summary>
    public sealed record CacheLayer(string Name, int Heads, int HeadDim)
    {
        public string PastKey => "past_key." + Name;
        public string PastValue => "past_value." + Name;
        public string PresentKey => "present_key." + Name;
        public string PresentValue => "present_value." + Name;
    }

    /// <summary>The self-attention layers whose keys/values the step model carries, in input order.</summary>
    public static IReadOnlyList<CacheLayer> CacheLayers(CoCaModelConfig config)
    {
        var t = config.Text;
        var m = config.Multimodal;
        var layers = new List<CacheLayer>();
        for (int i = 0; i < t.Layers; i++) layers.Add(new($"text.{i}", t.Heads, t.Width / t.Heads));
        for (int i = 0; i < m.Layers; i++) layers.Add(new($"decoder.{i}", m.Heads, m.Width / m.Heads));
        return layers;
    }

    public static string CrossKey(int layer) => $"cross_key.{layer}";
    public static string CrossValue(int layer) => $"cross_value.{layer}";

    /// <summary>True when the checkpoint carries the captioning decoder (<c>text_decoder.*</c>) and the text tower.</summary>
    public static bool HasDecoder(StateDict weights) =>
        weights.KeysWithPrefix(DecoderPrefix + ".").Any() && weights.KeysWithPrefix(TextPrefix + ".").Any();

    /// <summary>Throws <see cref="CoCaConfigException"/> with <see cref="CoCaModelConfig.CaptioningUnsupportedReason"/>.</summary>
    public static void RequireCaptioning(CoCaModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.CaptioningUnsupportedReason is { } why) throw new CoCaConfigException(why);
    }

    /// <summary>
    /// Both graphs, sharing one weight reader so that every <c>text_decoder.*</c> tensor is checked to be used exactly
    /// as configured (a missing, mis-shaped or unexpected one throws <see cref="CheckpointException"/> naming it).
    /// </summary>
    public static (OnnxGraphBuilder Image, OnnxGraphBuilder Step) CreateGraphs(CoCaModelConfig config, StateDict weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        RequireCaptioning(config);
        var r = new StateDictReader(weights);
        var image = CreateImageGraph(config, r);
        var step = CreateStepGraph(config, r);
        var m = config.Multimodal;
        r.ThrowIfUnread(DecoderPrefix + ".",
            $"'{config.Name}' (multimodal width={m.Width}, layers={m.Layers}, vocab_size={m.VocabSize})");
        return (image, step);
    }

    private static OnnxGraphBuilder CreateImageGraph(CoCaModelConfig config, StateDictReader r)
    {
        var m = config.Multimodal;
        int n = config.Vision.AttnPoolerQueries - 1, width = m.Width, headDim = width / m.Heads;
        var g = new OnnxGraphBuilder("coca_caption_image") { DocString = $"open_clip CoCa '{config.Name}' captioner, image side (cross-attention keys/values), written by CoCa.MLNet." };
        var tokens = g.Input(CaptionTokens, OnnxDataType.Float, ImageBatchDim, n, config.EmbedDim);
        for (int i = 0; i < m.Layers; i++)
        {
            var (k, v) = CachedAttentionBlocks.CrossKeysValues(g, r, $"{DecoderPrefix}.cross_attn.{i}", tokens, width, m.Heads);
            g.Output(k, CrossKey(i), OnnxDataType.Float, ImageBatchDim, m.Heads, headDim, n);
            g.Output(v, CrossValue(i), OnnxDataType.Float, ImageBatchDim, m.Heads, n, headDim);
        }
        Metadata(g, config, ImageKind);
        return g;
    }

    private static OnnxGraphBuilder CreateStepGraph(CoCaModelConfig config, StateDictReader r)
    {
        var t = config.Text;
        var m = config.Multimodal;
        int width = m.Width, n = config.Vision.AttnPoolerQueries - 1;
        var g = new OnnxGraphBuilder("coca_caption_step") { DocString = $"open_clip CoCa '{config.Name}' captioner, one decoding step with a key/value cache, written by CoCa.MLNet." };
        var ids = g.Input(InputIds, OnnxDataType.Int64, BatchDim, "new_tokens");
        var cache = CacheLayers(config);
        var past = cache.Select(c => (
            Key: g.Input(c.PastKey, OnnxDataType.Float, BatchDim, c.Heads, "past", c.HeadDim),
            Value: g.Input(c.PastValue, OnnxDataType.Float, BatchDim, c.Heads, "past", c.HeadDim))).ToList();
        var cross = Enumerable.Range(0, m.Layers).Select(i => (
            KeyT: g.Input(CrossKey(i), OnnxDataType.Float, ImageBatchDim, m.Heads, width / m.Heads, n),
            Value: g.Input(CrossValue(i), OnnxDataType.Float, ImageBatchDim, m.Heads, n, width / m.Heads))).ToList();

        string x, mask;
        using (g.Scope("embed"))
        {
            // Positions P … P+S−1, P = the cache length.
            var p = g.Gather(g.Shape(past[0].Key, 2, 3), 0, axis: 0);                    // scalar P
            var s = g.Gather(g.Shape(ids, 1, 2), 0, axis: 0);                             // scalar S
            var end = g.Add(p, s);
            var positions = g.Node("Range", [p, end, g.ScalarInt64(1)]);                   // [S]
            var tokenEmbedding = r.Get(TextPrefix + ".token_embedding.weight", t.VocabSize, t.Width);
            var positional = r.Get(TextPrefix + ".positional_embedding", t.ContextLength + 1, t.Width);
            x = g.Node("Gather", [g.Weight(tokenEmbedding), ids], OnnxAttribute.Int("axis", 0));
            x = g.Add(x, g.Node("Gather", [g.Weight(positional), positions], OnnxAttribute.Int("axis", 0)));
            // Causal mask [S, P+S]: new position P+i sees keys 0 … P+i.
            var keys = g.Node("Range", [g.ScalarInt64(0), end, g.ScalarInt64(1)]);        // [P+S]
            var rows = g.Node("Unsqueeze", [positions, g.Int64s(1)]);                      // [S,1]
            var blocked = g.Node("Greater", [keys, rows]);                                 // [S,P+S]
            mask = g.Node("Where", [blocked, g.ScalarFloat(float.NegativeInfinity), g.ScalarFloat(0f)]);
        }

        int layer = 0;
        var presents = new List<(string Key, string Value)>();
        for (int i = 0; i < t.Layers; i++, layer++)
        {
            var (y, k, v) = CachedAttentionBlocks.SelfAttention(g, r, $"{TextPrefix}.transformer.resblocks.{i}", x, t.Width, t.Heads, t.MlpWidth,
                past[layer].Key, past[layer].Value, mask, config.QuickGelu);
            x = y;
            presents.Add((k, v));
        }
        int mlp = DecoderMlpWidth(r.StateDict, width);
        for (int i = 0; i < m.Layers; i++, layer++)
        {
            var (y, k, v) = CachedAttentionBlocks.SelfAttention(g, r, $"{DecoderPrefix}.resblocks.{i}", x, width, m.Heads, mlp,
                past[layer].Key, past[layer].Value, mask, config.QuickGelu);
            presents.Add((k, v));
            x = CachedAttentionBlocks.CrossAttention(g, r, $"{DecoderPrefix}.cross_attn.{i}", y, width, m.Heads, mlp,
                cross[i].KeyT, cross[i].Value, config.QuickGelu);
        }

        using (g.Scope(DecoderPrefix))
        {
            var last = g.Reshape(g.Node("Slice", [x, g.Int64s(-1), g.Int64s(long.MaxValue), g.Int64s(1)]), 0, width);  // [B, W]
            last = LayerNormBlock.Apply(g, r, DecoderPrefix + ".ln_final", last, width);
            var logits = LinearBlock.Project(g, last, r.Get(DecoderPrefix + ".text_projection", width, m.VocabSize));
            g.Output(logits, Logits, OnnxDataType.Float, BatchDim, m.VocabSize);
        }
        for (int i = 0; i < cache.Count; i++)
        {
            g.Output(presents[i].Key, cache[i].PresentKey, OnnxDataType.Float, BatchDim, cache[i].Heads, "present", cache[i].HeadDim);
            g.Output(presents[i].Value, cache[i].PresentValue, OnnxDataType.Float, BatchDim, cache[i].Heads, "present", cache[i].HeadDim);
        }
        Metadata(g, config, StepKind);
        return g;
    }

    /// <summary>The decoder's MLP width, from its first c_fc weight (open_clip's multimodal_cfg.mlp_ratio, 4 by default).</summary>
    private static int DecoderMlpWidth(StateDict weights, int width)
    {
        var key = DecoderPrefix + ".resblocks.0.mlp.c_fc.weight";
        if (!weights.ContainsKey(key))
            throw new CheckpointException($"Checkpoint '{weights.Source}' has no '{key}': it carries no captioning decoder (text_decoder.*).");
        var shape = weights[key].Shape;
        if (shape.Length != 2 || shape[1] != width)
            throw new CheckpointException($"Checkpoint '{weights.Source}': '{key}' has shape [{string.Join(", ", shape)}], expected [mlp_width, {width}].");
        return checked((int)shape[0]);
    }

    private static void Metadata(OnnxGraphBuilder g, CoCaModelConfig config, string kind)
    {
        g.SetMetadata(CoCaOnnxMetadata.KindKey, kind);
        g.SetMetadata(CoCaOnnxMetadata.ConfigKey, CoCaOnnxMetadata.ConfigJson(config));
    }
}
