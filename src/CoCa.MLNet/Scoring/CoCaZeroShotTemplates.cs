namespace CoCa.MLNet.Scoring;

/// <summary>Prompt templates for zero-shot classification; <c>{c}</c> stands for the class name.</summary>
public static class CoCaZeroShotTemplates
{
    /// <summary>The placeholder a template must contain.</summary>
    public const string ClassPlaceholder = "{c}";

    /// <summary>The single prompt CLIP-style models are usually tried with: "a photo of a {c}.".</summary>
    public static IReadOnlyList<string> Default { get; } = ["a photo of a {c}."];

    /// <summary>open_clip's <c>SIMPLE_IMAGENET_TEMPLATES</c> (the 7-prompt ImageNet ensemble).</summary>
    public static IReadOnlyList<string> SimpleImageNet { get; } =
    [
        "itap of a {c}.",
        "a bad photo of the {c}.",
        "a origami {c}.",
        "a photo of the large {c}.",
        "a {c} in a video game.",
        "art of the {c}.",
        "a photo of the small {c}.",
    ];

    /// <summary>The prompt of <paramref name="className"/> in <paramref name="template"/>.</summary>
    public static string Apply(string template, string className) => template.Replace(ClassPlaceholder, className, StringComparison.Ordinal);
}
