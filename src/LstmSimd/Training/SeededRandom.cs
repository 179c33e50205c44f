namespace LstmSimd.Training;

/// <summary>
/// A small, fast, allocation-free random generator (xoshiro256** seeded through SplitMix64) whose
/// sequence is fixed by its seed on every platform and .NET version, so that initialisation, dropout
/// masks and generated data are reproducible.
/// </summary>
/// <remarks>Algorithms by Blackman and Vigna, https://prng.di.unimi.it/ (public domain reference code).</remarks>
public sealed class SeededRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Starts the sequence fixed by <paramref name="seed"/>.</summary>
    public SeededRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>The next 64 random bits.</summary>
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

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public float NextSingle(float low, float high) => low + (high - low) * NextSingle();

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>) without modulo bias (Lemire's method).</summary>
    public int NextInt32(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong range = (ulong)maxExclusive;
        while (true)
        {
            ulong product = Math.BigMul(NextUInt64(), range, out ulong low);
            if (low >= range || low >= (0UL - range) % range) return (int)product;
        }
    }

    /// <summary>Fills <paramref name="destination"/> uniformly in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public void Fill(Span<float> destination, float low, float high)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = NextSingle(low, high);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
