namespace CoCa.MLNet.Onnx.Blocks;

/// <summary>
/// open_clip's pre-LN transformer block (<c>ResidualAttentionBlock</c>), batch-first [B, T, W]:
/// x = x + out_proj(MHA(ln_1(x))); x = x + c_proj(GELU(c_fc(ln_2(x)))).
/// Reads <c>{prefix}.ln_1</c>, <c>{prefix}.attn.in_proj_*</c>, <c>{prefix}.attn.out_proj</c>, <c>{prefix}.ln_2</c>,
/// <c>{prefix}.mlp.c_fc</c>, <c>{prefix}.mlp.c_proj</c>. No layer scale (CoCa's ls_init_value is None).
/// </summary>
internal static class ResidualAttentionBlock
{
    /// <remarks>
    /// <paramref name="additiveMask"/>: Optional attention mask, see <see cref="MultiHeadAttentionBlock.Apply"/> (the text tower's causal/padding mask).<br/>
    /// <paramref name="quickGelu"/>: open_clip's QuickGELU instead of the exact GELU (false for CoCa).<br/>
    /// </remarks>
    public static string Apply(OnnxGraphBuilder g, StateDictReader weights, string prefix, string x,
        int width, int heads, int mlpWidth, string? additiveMask = null, bool quickGelu = false)
    {
        using var scope = g.Scope(prefix);
        var h = LayerNormBlock.Apply(g, weights, prefix + ".ln_1", x, width);
        var attn = MultiHeadAttentionBlock.Apply(g, h, h, AttentionWeights.Packed(weights, prefix + ".attn", width), heads, additiveMask);
        x = g.Add(x, attn);

        h = LayerNormBlock.Apply(g, weights, prefix + ".ln_2", x, width);
        h = LinearBlock.Apply(g, weights, prefix + ".mlp.c_fc", h, width, mlpWidth);
        h = quickGelu ? GeluBlock.Quick(g, h) : GeluBlock.Exact(g, h);
        h = LinearBlock.Apply(g, weights, prefix + ".mlp.c_proj", h, mlpWidth, width);
        return g.Add(x, h);
    }
}
