using CoCa.MLNet.Checkpoints;

namespace CoCa.MLNet.Tests.Checkpoints;

public sealed class CheckpointLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly CheckpointTensor[] Small = [new("visual.proj", [2, 2], [1f, 2f, 3f, 4f]), new("text.cls_emb", [2], [5f, 6f])];

    private const string TinyConfigJson = """
        {"model_cfg": {"embed_dim": 24,
          "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16,
                         "attentional_pool": true, "attn_pooler_queries": 5, "attn_pooler_heads": 4},
          "text_cfg": {"context_length": 6, "vocab_size": 50, "width": 16, "heads": 2, "layers": 2, "embed_cls": true},
          "multimodal_cfg": {"width": 16, "heads": 2, "layers": 1}},
         "preprocess_cfg": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}}
        """;

    [Fact]
    public void MissingPathNamesItAndWhatWasExpected()
    {
        var path = _dir.File("no-such-model");

        var e = Assert.Throws<FileNotFoundException>(() => CheckpointLoader.Load(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("open_clip_config.json", e.Message);
        Assert.Contains(".safetensors", e.Message);
    }

    [Fact]
    public void FolderWithoutWeightsSaysWhatWasLookedFor()
    {
        File.WriteAllText(_dir.File("open_clip_config.json"), TinyConfigJson);

        var e = Assert.Throws<FileNotFoundException>(() => CheckpointLoader.Load(_dir.Path));

        Assert.Contains(_dir.Path, e.Message);
        Assert.Contains("open_clip_model.safetensors", e.Message);
        Assert.Contains("open_clip_pytorch_model.bin", e.Message);
    }

    [Fact]
    public void HubFolderPrefersSafetensorsAndReadsTheConfig()
    {
        SafetensorsWriter.Write(_dir.File("open_clip_model.safetensors"), Small);
        var torch = new TorchZipWriter();
        torch.AddFloat32("visual.proj", [2, 2], [9f, 9f, 9f, 9f]);
        torch.Save(_dir.File("open_clip_pytorch_model.bin"));
        File.WriteAllText(_dir.File("open_clip_config.json"), TinyConfigJson);

        var loaded = CheckpointLoader.Load(_dir.Path);

        Assert.Equal(_dir.File("open_clip_model.safetensors"), loaded.WeightsPath);
        Assert.Equal([1f, 2f, 3f, 4f], loaded.Weights["visual.proj"].Data);
        Assert.NotNull(loaded.Config);
        Assert.Equal(24, loaded.Config!.EmbedDim);
        Assert.Equal([0.5f, 0.5f, 0.5f], loaded.Config.Preprocess.Std);
        Assert.Equal(Path.GetFileName(_dir.Path), loaded.Config.Name);
    }

    [Fact]
    public void FolderWithASingleOddlyNamedWeightsFileLoadsItWithoutConfig()
    {
        SafetensorsWriter.Write(_dir.File("epoch_5.safetensors"), Small);

        var loaded = CheckpointLoader.Load(_dir.Path);

        Assert.Equal(_dir.File("epoch_5.safetensors"), loaded.WeightsPath);
        Assert.Null(loaded.Config);
        Assert.Null(loaded.ConfigPath);
    }

    [Fact]
    public void FolderWithSeveralUnnamedWeightsFilesIsAmbiguous()
    {
        SafetensorsWriter.Write(_dir.File("a.safetensors"), Small);
        SafetensorsWriter.Write(_dir.File("b.safetensors"), Small);

        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.Load(_dir.Path));

        Assert.Contains("a.safetensors", e.Message);
        Assert.Contains("b.safetensors", e.Message);
    }

    [Fact]
    public void FilesAreRecognisedByContentNotExtension()
    {
        // A safetensors file named .bin and a torch zip named .safetensors both load.
        SafetensorsWriter.Write(_dir.File("really-safetensors.bin"), Small);
        var torch = new TorchZipWriter();
        torch.AddFloat32("visual.proj", [2, 2], [7f, 7f, 7f, 7f]);
        torch.Save(_dir.File("really-torch.safetensors"));

        Assert.Equal([1f, 2f, 3f, 4f], CheckpointLoader.Load(_dir.File("really-safetensors.bin")).Weights["visual.proj"].Data);
        Assert.Equal([7f, 7f, 7f, 7f], CheckpointLoader.Load(_dir.File("really-torch.safetensors")).Weights["visual.proj"].Data);
    }

    [Fact]
    public void FilePathPicksUpTheConfigBesideIt()
    {
        var torch = new TorchZipWriter();
        torch.AddFloat32("visual.proj", [2, 2], [1f, 1f, 1f, 1f]);
        torch.Save(_dir.File("open_clip_pytorch_model.bin"));
        File.WriteAllText(_dir.File("open_clip_config.json"), TinyConfigJson);

        var loaded = CheckpointLoader.Load(_dir.File("open_clip_pytorch_model.bin"));

        Assert.Equal(32, loaded.Config!.Vision.Width);
        Assert.Equal(_dir.File("open_clip_config.json"), loaded.ConfigPath);
    }

    [Fact]
    public void TruncatedSafetensorsIsReportedNamingFileAndTensor()
    {
        var path = _dir.File("cut.safetensors");
        SafetensorsWriter.Write(path, Small);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);

        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.Load(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("'text.cls_emb'", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void GarbageFileIsRejectedNamingIt()
    {
        var path = _dir.File("weights.dat");
        File.WriteAllBytes(path, Enumerable.Range(0, 100).Select(i => (byte)(i * 7 + 3)).ToArray());

        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.Load(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("neither a safetensors file nor a PyTorch", e.Message);
    }

    [Fact]
    public void CorruptSafetensorsHeaderIsReported()
    {
        var path = _dir.File("bad.safetensors");
        var header = "{\"x\": {\"dtype\": \"F32\", \"shape\": [2]}}"u8.ToArray();
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[8]]);

        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.Load(path));

        Assert.Contains("'x'", e.Message);
        Assert.Contains(path, e.Message);
    }
}
