using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CoCa.MLNet.Preprocessing;

/// <summary>
/// Bit-exact re-implementation of Pillow's 8-bit <c>Image.resize((w, h), filter)</c> (no box, no reducing_gap):
/// separable antialiased convolution with 22-bit fixed-point weights (libImaging/Resample.c), horizontal pass first over
/// only the source rows the vertical pass needs, each pass skipped when its dimension does not change; and PIL's
/// nearest-neighbour scaling (libImaging/Geometry.c, ImagingScaleAffine) for <see cref="ResamplingFilter.Nearest"/>.
/// </summary>
internal static class PilResize
{
    /// <summary>Resizes an RGB image to <paramref name="width"/> x <paramref name="height"/> exactly as PIL does.</summary>
    public static RgbImage Resize(RgbImage source, int width, int height, ResamplingFilter filter)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var pixels = new byte[checked(width * height * 3)];
        ResizeRegion(source.Pixels, source.Width, source.Height, 3, width, height, filter, PixelRegion.Whole(width, height), pixels);
        return new RgbImage(width, height, pixels);
    }

    /// <summary>
    /// Pillow's resize of a mode "I" image (32-bit integers; libImaging/Resample.c, the INT32 case of the 32bpc passes):
    /// double weights, each pass rounded half away from zero (ROUND_UP), horizontal pass first, a pass skipped when its
    /// dimension does not change. Convolution filters only.
    /// </summary>
    internal static int[] ResizeInteger(int[] source, int width, int height, int outWidth, int outHeight, ResamplingFilter filter)
    {
        var current = source;
        if (outWidth != width)
        {
            var (first, count, weights, ks) = ResampleCoefficients.ComputeNormalized(width, outWidth, filter);
            var next = new int[outWidth * height];
            for (int y = 0; y < height; y++)
            {
                for (int xx = 0; xx < outWidth; xx++)
                {
                    double ss = 0.0;
                    int xmin = first[xx], row = y * width + xmin;
                    for (int x = 0; x < count[xx]; x++) ss += current[row + x] * weights[xx * ks + x];
                    next[y * outWidth + xx] = RoundUp(ss);
                }
            }
            current = next;
            width = outWidth;
        }
        if (outHeight != height)
        {
            var (first, count, weights, ks) = ResampleCoefficients.ComputeNormalized(height, outHeight, filter);
            var next = new int[width * outHeight];
            for (int yy = 0; yy < outHeight; yy++)
            {
                int ymin = first[yy];
                for (int xx = 0; xx < width; xx++)
                {
                    double ss = 0.0;
                    for (int y = 0; y < count[yy]; y++) ss += current[(y + ymin) * width + xx] * weights[yy * ks + y];
                    next[yy * width + xx] = RoundUp(ss);
                }
            }
            current = next;
        }
        return current;

        // ROUND_UP(f): (int)(f >= 0.0 ? floor(f + 0.5) : -floor(fabs(f) + 0.5))
        static int RoundUp(double f) => (int)(f >= 0.0 ? Math.Floor(f + 0.5) : -Math.Floor(Math.Abs(f) + 0.5));
    }

    /// <summary>
    /// Computes only <paramref name="region"/> of the resized image (for a center crop), each of its pixels identical to
    /// the full resize's. <paramref name="source"/> and <paramref name="destination"/> are dense, <paramref name="channels"/>
    /// bytes a pixel; every channel is resampled independently (alpha included), as PIL does.
    /// </summary>
    internal static void ResizeRegion(
        ReadOnlySpan<byte> source, int sourceWidth, int sourceHeight, int channels,
        int outWidth, int outHeight, ResamplingFilter filter, PixelRegion region, Span<byte> destination)
    {
        if (channels is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 to 4 channels a pixel.");
        if (source.Length < sourceWidth * sourceHeight * channels)
            throw new ArgumentException($"Source holds {source.Length} bytes; a {sourceWidth}x{sourceHeight} image of {channels} channels needs {sourceWidth * sourceHeight * channels}.", nameof(source));
        region.EnsureInside(outWidth, outHeight);
        int rowBytes = region.Width * channels;
        if (destination.Length < rowBytes * region.Height)
            throw new ArgumentException($"Destination holds {destination.Length} bytes; region {region} needs {rowBytes * region.Height}.", nameof(destination));
        if (region.IsEmpty) return;

        if (filter == ResamplingFilter.Nearest)
        {
            NearestRegion(source, sourceWidth, sourceHeight, channels, outWidth, outHeight, region, destination);
            return;
        }

        bool needHorizontal = outWidth != sourceWidth;
        bool needVertical = outHeight != sourceHeight;
        var vertical = needVertical ? ResampleCoefficients.Compute(sourceHeight, outHeight, filter) : null;

        // Source rows the vertical pass reads (PIL's ybox_first/ybox_last, restricted to the region's rows).
        int rowFirst, rowEnd;
        if (vertical is not null)
        {
            rowFirst = int.MaxValue;
            rowEnd = 0;
            for (int y = region.Y; y < region.Y + region.Height; y++)
            {
                rowFirst = Math.Min(rowFirst, vertical.First[y]);
                rowEnd = Math.Max(rowEnd, vertical.First[y] + vertical.Count[y]);
            }
        }
        else
        {
            rowFirst = region.Y;
            rowEnd = region.Y + region.Height;
        }

        byte[]? rented = null;
        try
        {
            ReadOnlySpan<byte> passInput;
            int inputStride, inputColumnOffset, inputRowBase;
            if (needHorizontal)
            {
                var horizontal = ResampleCoefficients.Compute(sourceWidth, outWidth, filter);
                int tempLength = (rowEnd - rowFirst) * rowBytes;
                Span<byte> temp;
                if (needVertical)
                {
                    rented = ArrayPool<byte>.Shared.Rent(tempLength);
                    temp = rented.AsSpan(0, tempLength);
                }
                else
                {
                    temp = destination[..tempLength]; // rows are exactly the region's rows
                }
                HorizontalPass(source, sourceWidth * channels, channels, horizontal, rowFirst, rowEnd, region.X, region.Width, temp);
                if (!needVertical) return;
                passInput = temp;
                inputStride = rowBytes;
                inputColumnOffset = 0;
                inputRowBase = rowFirst;
            }
            else
            {
                passInput = source;
                inputStride = sourceWidth * channels;
                inputColumnOffset = region.X * channels;
                inputRowBase = 0;
            }

            if (vertical is not null)
            {
                VerticalPass(passInput, inputStride, inputColumnOffset, inputRowBase, vertical, region.Y, region.Height, rowBytes, destination);
            }
            else
            {
                for (int y = 0; y < region.Height; y++)
                    passInput.Slice((region.Y + y - inputRowBase) * inputStride + inputColumnOffset, rowBytes)
                        .CopyTo(destination.Slice(y * rowBytes, rowBytes));
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Pillow's clip8: drop the fraction bits (arithmetic shift) and clamp to a byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clip8(int accumulator)
    {
        int v = accumulator >> ResampleCoefficients.PrecisionBits;
        return (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
    }

    private static void HorizontalPass(
        ReadOnlySpan<byte> source, int sourceStride, int channels, ResampleCoefficients coefficients,
        int rowFirst, int rowEnd, int columnFirst, int columnCount, Span<byte> temp)
    {
        int kernelSize = coefficients.KernelSize;
        ref int weights0 = ref MemoryMarshal.GetArrayDataReference(coefficients.Weights);
        int outStride = columnCount * channels;
        for (int y = rowFirst; y < rowEnd; y++)
        {
            ref byte inRow = ref Unsafe.AsRef(in source[y * sourceStride]);
            ref byte outRow = ref temp[(y - rowFirst) * outStride];
            for (int xx = 0; xx < columnCount; xx++)
            {
                int ox = columnFirst + xx;
                int count = coefficients.Count[ox];
                ref int k = ref Unsafe.Add(ref weights0, ox * kernelSize);
                ref byte p = ref Unsafe.Add(ref inRow, coefficients.First[ox] * channels);
                ref byte o = ref Unsafe.Add(ref outRow, xx * channels);
                switch (channels)
                {
                    case 3:
                    {
                        int s0 = ResampleCoefficients.Half, s1 = s0, s2 = s0;
                        for (int t = 0; t < count; t++)
                        {
                            int w = Unsafe.Add(ref k, t);
                            ref byte px = ref Unsafe.Add(ref p, t * 3);
                            s0 += px * w;
                            s1 += Unsafe.Add(ref px, 1) * w;
                            s2 += Unsafe.Add(ref px, 2) * w;
                        }
                        o = Clip8(s0);
                        Unsafe.Add(ref o, 1) = Clip8(s1);
                        Unsafe.Add(ref o, 2) = Clip8(s2);
                        break;
                    }
                    case 4:
                    {
                        int s0 = ResampleCoefficients.Half, s1 = s0, s2 = s0, s3 = s0;
                        for (int t = 0; t < count; t++)
                        {
                            int w = Unsafe.Add(ref k, t);
                            ref byte px = ref Unsafe.Add(ref p, t * 4);
                            s0 += px * w;
                            s1 += Unsafe.Add(ref px, 1) * w;
                            s2 += Unsafe.Add(ref px, 2) * w;
                            s3 += Unsafe.Add(ref px, 3) * w;
                        }
                        o = Clip8(s0);
                        Unsafe.Add(ref o, 1) = Clip8(s1);
                        Unsafe.Add(ref o, 2) = Clip8(s2);
                        Unsafe.Add(ref o, 3) = Clip8(s3);
                        break;
                    }
                    default:
                        for (int c = 0; c < channels; c++)
                        {
                            int s = ResampleCoefficients.Half;
                            for (int t = 0; t < count; t++)
                                s += Unsafe.Add(ref p, t * channels + c) * Unsafe.Add(ref k, t);
                            Unsafe.Add(ref o, c) = Clip8(s);
                        }
                        break;
                }
            }
        }
    }

    private static void VerticalPass(
        ReadOnlySpan<byte> input, int inputStride, int inputColumnOffset, int inputRowBase,
        ResampleCoefficients coefficients, int rowFirst, int rowCount, int rowBytes, Span<byte> destination)
    {
        int[] accumulator = ArrayPool<int>.Shared.Rent(rowBytes);
        try
        {
            var acc = accumulator.AsSpan(0, rowBytes);
            int kernelSize = coefficients.KernelSize;
            for (int yy = 0; yy < rowCount; yy++)
            {
                int oy = rowFirst + yy;
                int first = coefficients.First[oy] - inputRowBase;
                int count = coefficients.Count[oy];
                var k = coefficients.Weights.AsSpan(oy * kernelSize, count);
                acc.Fill(ResampleCoefficients.Half);
                // Integer sums are exact, so accumulating row by row equals PIL's per-pixel loop.
                for (int t = 0; t < count; t++)
                    MultiplyAdd(input.Slice((first + t) * inputStride + inputColumnOffset, rowBytes), k[t], acc);
                var outRow = destination.Slice(yy * rowBytes, rowBytes);
                for (int i = 0; i < outRow.Length; i++)
                    outRow[i] = Clip8(acc[i]);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(accumulator);
        }
    }

    private static void MultiplyAdd(ReadOnlySpan<byte> row, int weight, Span<int> acc)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && row.Length >= System.Numerics.Vector<byte>.Count)
        {
            var w = new System.Numerics.Vector<int>(weight);
            int step = System.Numerics.Vector<byte>.Count;
            int quarter = System.Numerics.Vector<int>.Count;
            var accInts = acc;
            for (; i <= row.Length - step; i += step)
            {
                var bytes = new System.Numerics.Vector<byte>(row.Slice(i, step));
                System.Numerics.Vector.Widen(bytes, out var lo16, out var hi16);
                System.Numerics.Vector.Widen(lo16, out var a32, out var b32);
                System.Numerics.Vector.Widen(hi16, out var c32, out var d32);
                Add(accInts.Slice(i, quarter), System.Numerics.Vector.AsVectorInt32(a32) * w);
                Add(accInts.Slice(i + quarter, quarter), System.Numerics.Vector.AsVectorInt32(b32) * w);
                Add(accInts.Slice(i + 2 * quarter, quarter), System.Numerics.Vector.AsVectorInt32(c32) * w);
                Add(accInts.Slice(i + 3 * quarter, quarter), System.Numerics.Vector.AsVectorInt32(d32) * w);
            }
        }
        for (; i < row.Length; i++)
            acc[i] += row[i] * weight;

        static void Add(Span<int> target, System.Numerics.Vector<int> value)
            => (new System.Numerics.Vector<int>(target) + value).CopyTo(target);
    }

    /// <summary>
    /// PIL's NEAREST resize: an affine scale whose source positions are accumulated in doubles from half a step,
    /// truncated to ints (ImagingScaleAffine); positions outside the source stay zero.
    /// </summary>
    private static void NearestRegion(
        ReadOnlySpan<byte> source, int sourceWidth, int sourceHeight, int channels,
        int outWidth, int outHeight, PixelRegion region, Span<byte> destination)
    {
        var columns = NearestPositions(sourceWidth, outWidth);
        var rows = NearestPositions(sourceHeight, outHeight);
        int rowBytes = region.Width * channels;
        int sourceStride = sourceWidth * channels;
        for (int yy = 0; yy < region.Height; yy++)
        {
            var outRow = destination.Slice(yy * rowBytes, rowBytes);
            int sy = rows[region.Y + yy];
            if (sy < 0)
            {
                outRow.Clear();
                continue;
            }
            var inRow = source.Slice(sy * sourceStride, sourceStride);
            for (int xx = 0; xx < region.Width; xx++)
            {
                int sx = columns[region.X + xx];
                var o = outRow.Slice(xx * channels, channels);
                if (sx < 0) o.Clear();
                else inRow.Slice(sx * channels, channels).CopyTo(o);
            }
        }
    }

    /// <summary>Source index of each output position for PIL's nearest scaling; -1 where it falls outside.</summary>
    internal static int[] NearestPositions(int inSize, int outSize)
    {
        double step = (double)inSize / outSize;
        double position = step * 0.5;
        var result = new int[outSize];
        for (int i = 0; i < outSize; i++)
        {
            int index = position < 0.0 ? -1 : (int)position;
            result[i] = index >= 0 && index < inSize ? index : -1;
            position += step;
        }
        return result;
    }
}
