using System.Globalization;

namespace LstmSimd;

/// <summary>What the LSTM and GRU weight sets share: the shape check of one tensor and PyTorch's uniform initialisation.</summary>
internal static class WeightShapes
{
    /// <summary>Throws an <see cref="ArgumentException"/> unless <paramref name="array"/> holds <paramref name="expected"/> values.</summary>
    public static void Check(float[] array, int expected, string name, string where)
    {
        if (array is null || array.Length != expected)
            throw new ArgumentException($"{name} of {where} must hold {expected} values, got {array?.Length.ToString(CultureInfo.InvariantCulture) ?? "null"}.", name);
    }

    /// <summary><paramref name="length"/> values uniform in [-<paramref name="bound"/>, <paramref name="bound"/>].</summary>
    public static float[] Uniform(Random random, int length, float bound)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)((random.NextDouble() * 2.0 - 1.0) * bound);
        return values;
    }
}
