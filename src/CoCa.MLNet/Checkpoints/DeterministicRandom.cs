using System.Text;

namespace CoCa.MLNet.Checkpoints;

/// <summary>
/// A small PRNG whose output is bit-identical on every platform and .NET version: xoshiro256** seeded through
/// SplitMix64, and approximately normal values made with integer and IEEE add/multiply only. Box–Muller would need
/// Math.Log/Math.Cos, whose last bits can differ between platforms' math libraries.
/// </summary>
internal sealed class DeterministicRandom
{
    private static readonly double Sqrt3 = Math.Sqrt(3.0); // sqrt is correctly rounded by IEEE 754
    private ulong _s0, _s1, _s2, _s3;

    public DeterministicRandom(ulong seed)
    {
        _s0 = SplitMix64(ref seed);
        _s1 = SplitMix64(ref seed);
        _s2 = SplitMix64(ref seed);
        _s3 = SplitMix64(ref seed);
    }

    /// <summary>A generator for one named stream (e.g. one tensor), independent of the order streams are drawn in.</summary>
    public static DeterministicRandom ForStream(int seed, string streamName)
    {
        // FNV-1a over the UTF-8 name, mixed with the seed.
        ulong hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(streamName)) hash = (hash ^ b) * 1099511628211UL;
        return new DeterministicRandom(hash ^ ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL));
    }

    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>
    /// Mean 0, standard deviation 1, approximately normal: the centred sum of four 32-bit uniforms (Irwin–Hall, n = 4),
    /// scaled by √3. Bounded by ±2√3; close enough to a Gaussian for weight initialisation.
    /// </summary>
    public double NextStandardNormal()
    {
        ulong a = NextUInt64(), b = NextUInt64();
        double sum = (double)(uint)a + (double)(uint)(a >> 32) + (double)(uint)b + (double)(uint)(b >> 32); // exact in double
        return (sum * (1.0 / 4294967296.0) - 2.0) * Sqrt3;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
