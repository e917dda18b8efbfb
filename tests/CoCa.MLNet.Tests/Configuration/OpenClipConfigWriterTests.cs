using CoCa.MLNet.Configuration;

namespace CoCa.MLNet.Tests.Configuration;

public class OpenClipConfigWriterTests
{
    [Theory]
    [InlineData("coca_ViT-B-32")]
    [InlineData("coca_ViT-L-14")]
    public void WrittenConfigReadsBackToTheSameModel(string name)
    {
        var config = CoCaConfigs.Get(name);
        var dir = Directory.CreateTempSubdirectory("coca-cfg-");
        try
        {
            var path = OpenClipConfigWriter.Write(config, dir.FullName);
            var back = CoCaConfigs.FromOpenClipConfigFile(path, name);
            Assert.Equal(config.EmbedDim, back.EmbedDim);
            Assert.Equal(config.Vision, back.Vision);
            Assert.Equal(config.Text, back.Text);
            Assert.Equal(config.Multimodal, back.Multimodal);
            Assert.Equal(config.Preprocess.Mean, back.Preprocess.Mean);
            Assert.Equal(config.Preprocess.Std, back.Preprocess.Std);
            Assert.Equal(config.Preprocess.ImageSize, back.Preprocess.ImageSize);
        }
        finally { dir.Delete(true); }
    }
}
