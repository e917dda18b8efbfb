namespace CoCa.MLNet.Demo;

/// <summary>One generated video: its path (a file, or a folder for PNG frames) and class label (its folder's name).</summary>
public sealed record VideoDatasetEntry(string Path, string Label);
