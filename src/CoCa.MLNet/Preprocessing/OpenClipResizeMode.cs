namespace CoCa.MLNet.Preprocessing;

/// <summary>open_clip's <c>preprocess_cfg.resize_mode</c> for the eval transform.</summary>
internal enum OpenClipResizeMode
{
    /// <summary>Resize the shortest side to S (long side truncated), then center crop S×S. open_clip's default.</summary>
    Shortest,
    /// <summary>Resize straight to S×S, ignoring the aspect ratio.</summary>
    Squash,
    /// <summary>Resize the longest side to S keeping the ratio (sides rounded half to even), then center pad with 0 to S×S.</summary>
    Longest,
}

/// <summary>Parses open_clip's resize-mode names.</summary>
internal static class OpenClipResizeModes
{
    public static OpenClipResizeMode FromOpenClipName(string resizeMode)
    {
        ArgumentNullException.ThrowIfNull(resizeMode);
        return resizeMode.Trim().ToLowerInvariant() switch
        {
            "shortest" => OpenClipResizeMode.Shortest,
            "squash" => OpenClipResizeMode.Squash,
            "longest" => OpenClipResizeMode.Longest,
            _ => throw new NotSupportedException(
                $"Unsupported resize_mode '{resizeMode}' in the preprocessing config; open_clip accepts 'shortest', 'longest' or 'squash'."),
        };
    }
}
