using LstmSimd.Kernels;
using Xunit;

namespace LstmSimd.Tests.Kernels;

/// <summary>The whole-span loops beside the cell kernels (input scans, gradient norms, Adam) on every width against plain loops.</summary>
public class VectorMathTests
{
    // Lengths that straddle every width's vectors and pairs of vectors.
    private static readonly int[] Lengths = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 3000];

    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    [Theory]
    [MemberData(nameof(Paths))]
    public void Largest_magnitude_is_the_largest_absolute_value_and_ignores_nan(KernelPath path)
    {
        KernelSet kernels = KernelSelector.Create(path);
        var random = new Random(1);
        foreach (int length in Lengths)
        {
            float[] values = RandomValues(random, length, scale: 10);
            float expected = values.Length == 0 ? 0f : values.Max(MathF.Abs);
            Assert.Equal(expected, kernels.LargestMagnitude(values));
            if (length == 0) continue;

            // The largest at every position, including the scalar tail; NaN anywhere is passed over.
            int at = random.Next(length);
            values[at] = -1e30f;
            values[(at + 1) % length] = float.NaN;
            Assert.Equal(length == 1 ? 0f : 1e30f, kernels.LargestMagnitude(values));
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Adam_update_matches_the_formula_bit_for_bit_on_every_element(KernelPath path)
    {
        TrainingKernelSet kernels = KernelSelector.Create(path).Training;
        var random = new Random(3);
        var step = new AdamStep(StepSize: 0.01f, RootCorrection2: 0.3f, Beta1: 0.9f, Beta2: 0.999f, Epsilon: 1e-8f, L2: 0.01f, Shrink: 0.999f);
        foreach (int length in Lengths)
        {
            float[] p = RandomValues(random, length, 1), m = RandomValues(random, length, 0.1f), g = RandomValues(random, length, 1);
            float[] v = [.. RandomValues(random, length, 0.1f).Select(MathF.Abs)];
            float[] pExpected = [.. p], mExpected = [.. m], vExpected = [.. v];
            for (int i = 0; i < length; i++)
            {
                // The update as written in the optimiser's documentation, one element at a time.
                float gi = g[i] + step.L2 * pExpected[i];
                mExpected[i] = step.Beta1 * mExpected[i] + (1 - step.Beta1) * gi;
                vExpected[i] = step.Beta2 * vExpected[i] + (1 - step.Beta2) * gi * gi;
                pExpected[i] = pExpected[i] * step.Shrink - step.StepSize * mExpected[i] / (MathF.Sqrt(vExpected[i]) / step.RootCorrection2 + step.Epsilon);
            }

            kernels.AdamUpdate(p, m, v, g, step);
            Assert.Equal(mExpected, m);
            Assert.Equal(vExpected, v);
            Assert.Equal(pExpected, p);
        }
    }

    private static float[] RandomValues(Random random, int length, float scale) =>
        [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale)];
}
