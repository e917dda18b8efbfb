using BitMiracle.LibTiff.Classic;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>TIFF files for the decoder's and the CLI's folder tests.</summary>
internal static class TiffFiles
{
    /// <summary>Writes a strip TIFF with libtiff (as other programs do) into memory.</summary>
    public static byte[] Write(int width, int height, int samples, byte[] pixels, Compression compression, Photometric photometric, ExtraSample? extra = null, int rowsPerStrip = 3)
    {
        using var stream = new MemoryStream();
        using (var tiff = Tiff.ClientOpen("test.tif", "w", stream, new TiffStream()))
        {
            tiff.SetField(TiffTag.IMAGEWIDTH, width);
            tiff.SetField(TiffTag.IMAGELENGTH, height);
            tiff.SetField(TiffTag.SAMPLESPERPIXEL, samples);
            tiff.SetField(TiffTag.BITSPERSAMPLE, 8);
            tiff.SetField(TiffTag.PHOTOMETRIC, photometric);
            tiff.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
            tiff.SetField(TiffTag.COMPRESSION, compression);
            tiff.SetField(TiffTag.ROWSPERSTRIP, rowsPerStrip);
            if (extra is { } e) tiff.SetField(TiffTag.EXTRASAMPLES, 1, new short[] { (short)e });
            for (int y = 0; y < height; y++)
                Assert.True(tiff.WriteScanline(pixels.AsSpan(y * width * samples, width * samples).ToArray(), y));
            tiff.WriteDirectory();
        }
        return stream.ToArray();
    }
}
