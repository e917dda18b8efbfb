namespace CoCa.MLNet.Configuration;

/// <summary>Numbers of the vision tower CoCaConverter writes (coca convert --precision).</summary>
public enum VisionPrecision
{
    /// <summary>float32 throughout: open_clip's numbers (the default).</summary>
    Float32,

    /// <summary>
    /// Opt-in, faster on CPUs with int8 dot products (VNNI): every nn.Linear of the transformer and the attentional
    /// pooler with int8 weights per output channel and activations quantized at run time; the patch embedding,
    /// LayerNorms, attention products and the projection stay float32. Not open_clip's numbers.
    /// </summary>
    Int8,
}
