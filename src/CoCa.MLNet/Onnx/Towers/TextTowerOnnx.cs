using CoCa.MLNet.Checkpoints;
using CoCa.MLNet.Configuration;
using CoCa.MLNet.Onnx.Blocks;

namespace CoCa.MLNet.Onnx.Towers;

/// <summary>
/// Writes open_clip's CoCa unimodal text tower (<c>TextTransformer</c> with <c>embed_cls</c>, <c>text.*</c> keys) as an ONNX model.
/// <list type="bullet">
/// <item>input <c>input_ids</c> int64 [batch, L], L = text_cfg.context_length (76 for CoCa): open_clip's tokenizer output,
/// start/end tokens included, zero padded;</item>
/// <item>output <c>text_embedding</c> [batch, embed_dim]: ln_final(x)[:, L] @ text_projection, not normalized
/// (open_clip's <c>encode_text(normalize=False)</c>).</item>
/// </list>
/// The forward pass: token embedding; the learned cls embedding appended <em>after</em> the L text tokens; positional
/// embedding (L+1 rows); pre-LN residual attention blocks under a causal mask, where the cls row additionally follows
/// open_clip's legacy padding mask (key 0 always visible, key j ≥ 1 visible iff token j−1 is not padding: shifted by one,
/// as the pretrained weights were trained); ln_final on the cls position; text_projection.
/// Every weight is read with its expected shape; a missing, mis-shaped or unexpected <c>text.</c> tensor throws
/// <see cref="CheckpointException"/> naming it. The config JSON and kind "text" go into the model's metadata.
/// </summary>
internal static class TextTowerOnnx
{
    public const string InputIds = "input_ids";
    public const string TextEmbedding = "text_embedding";
    public const string BatchDim = "batch";

    private const string Prefix = "text";

    /// <summary>The serialized ONNX model.</summary>
    public static byte[] Build(CoCaModelConfig config, StateDict weights) => CreateGraph(config, weights).ToBytes();

    /// <summary>Streams the ONNX model to <paramref name="stream"/> (weights are not buffered); returns bytes written.</summary>
    public static long Write(CoCaModelConfig config, StateDict weights, Stream stream) => CreateGraph(config, weights).WriteTo(stream);

    /// <summary>Writes the ONNX model to <paramref name="path"/> atomically.</summary>
    public static void Save(CoCaModelConfig config, StateDict weights, string path) => CreateGraph(config, weights).Save(path);

    /// <summary>The graph, ready to write (its initializers reference <paramref name="weights"/>' arrays).</summary>
    public static OnnxGraphBuilder CreateGraph(CoCaModelConfig config, StateDict weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        Validate(config);
        var t = config.Text;
        int width = t.Width, length = t.ContextLength, positions = length + 1, embed = config.EmbedDim;

        var g = new OnnxGraphBuilder("coca_text") { DocString = $"open_clip CoCa text tower '{config.Name}' written by CoCa.MLNet." };
        var r = new StateDictReader(weights);
        var ids = g.Input(InputIds, OnnxDataType.Int64, BatchDim, length);

        string x, mask;
        using (g.Scope(Prefix))
        {
            // Token embedding [B, L, W], then the cls embedding appended as position L (CoCa pools the last token).
            x = g.Node("Gather", [g.Weight(r.Get(Prefix + ".token_embedding.weight", t.VocabSize, width)), ids], OnnxAttribute.Int("axis", 0));
            var batchShape = g.Concat(0, g.Shape(ids, 0, 1), g.Int64s(1, width));
            var cls = g.Expand(g.Weight(r.Get(Prefix + ".cls_emb", width), 1, 1, width), batchShape);
            x = g.Concat(1, x, cls);
            x = g.Add(x, g.Weight(r.Get(Prefix + ".positional_embedding", positions, width)));
            mask = AttentionMask(g, ids, length, t.PadId);
        }

        for (int i = 0; i < t.Layers; i++)
            x = ResidualAttentionBlock.Apply(g, r, $"{Prefix}.transformer.resblocks.{i}", x, width, t.Heads, t.MlpWidth, mask, config.QuickGelu);

        using (g.Scope(Prefix))
        {
            // ln_final is per token, so applying it to the cls position alone equals open_clip's ln_final(x)[:, -1].
            var pooled = g.Gather(x, length, axis: 1);                                   // [B, W]
            pooled = LayerNormBlock.Apply(g, r, Prefix + ".ln_final", pooled, width);
            var embedding = LinearBlock.Project(g, pooled, r.Get(Prefix + ".text_projection", width, embed));
            g.Output(embedding, TextEmbedding, OnnxDataType.Float, BatchDim, embed);
        }

        r.ThrowIfUnread(Prefix + ".",
            $"'{config.Name}' (text context_length={length}, vocab_size={t.VocabSize}, width={width}, layers={t.Layers}, embed_dim={embed})");

        g.SetMetadata(CoCaOnnxMetadata.KindKey, CoCaOnnxMetadata.TextKind);
        g.SetMetadata(CoCaOnnxMetadata.ConfigKey, CoCaOnnxMetadata.ConfigJson(config));
        return g;
    }

    /// <summary>
    /// The additive attention mask [B, 1, L+1, L+1]: causal (−∞ above the diagonal) for every row; in the cls row
    /// (the last), key j ≥ 1 is also blocked when token j−1 is padding. This is open_clip's <c>build_cls_mask</c>
    /// (v2.x; v3 keeps it as <c>correct_cls_mask=False</c>): the pad mask is shifted by one position, so the cls token
    /// sees the first padding position and sees itself only when the text fills the whole context.
    /// </summary>
    private static string AttentionMask(OnnxGraphBuilder g, string ids, int length, int padId)
    {
        int n = length + 1;
        var causal = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) causal[i * n + j] = float.NegativeInfinity;
        var causalMask = g.Initializer("text.causal_mask", causal, n, n);
        var lastRow = new float[n];
        lastRow[n - 1] = 1f;
        var clsRow = g.Initializer("text.cls_row", lastRow, n, 1);

        // isPad [B, L] → shifted right by one (key 0, "before" the text, is never blocked) → [B, 1, 1, L+1].
        var isPad = g.Node("Cast", [g.Node("Equal", [ids, g.ScalarInt64(padId)])], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
        var shifted = g.Node("Pad", [isPad, g.Int64s(0, 1, 0, 0)], OnnxAttribute.String("mode", "constant"));
        var keys = g.Reshape(shifted, 0, 1, 1, n);
        // Only the cls row is restricted: [B,1,1,L+1] · [L+1,1] → [B,1,L+1,L+1], 1 where blocked.
        var blocked = g.Node("Cast", [g.Mul(keys, clsRow)], OnnxAttribute.Int("to", (long)OnnxDataType.Bool));
        return g.Node("Where", [blocked, g.ScalarFloat(float.NegativeInfinity), causalMask]);
    }

    private static void Validate(CoCaModelConfig config)
    {
        var t = config.Text;
        void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"CoCa config '{config.Name}': {message}", nameof(config));
        }
        Require(t.EmbedCls, "text_cfg.embed_cls is false; CoCa's text tower pools a cls token appended after the text, and only that is supported.");
        Require(t.ContextLength >= 1 && t.VocabSize >= 1 && t.Layers >= 0,
            $"text_cfg needs context_length ≥ 1, vocab_size ≥ 1 and layers ≥ 0 (context_length={t.ContextLength}, vocab_size={t.VocabSize}, layers={t.Layers}).");
        Require(t.Width > 0 && t.Heads > 0 && t.Width % t.Heads == 0, $"text_cfg.width {t.Width} is not divisible into {t.Heads} heads.");
        Require(t.MlpWidth > 0, $"text_cfg.mlp_ratio {t.MlpRatio} gives an MLP width of {t.MlpWidth}.");
        Require(config.EmbedDim > 0, $"embed_dim is {config.EmbedDim}.");
    }
}
