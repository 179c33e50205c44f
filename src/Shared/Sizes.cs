using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace LstmSimd.Shared;

/// <summary>
/// Size arithmetic for buffers and shapes. Every product of dimensions that sizes an array, or that later code indexes
/// with <see cref="int"/> arithmetic, is computed here once, when a spec, session, panel or file is set up: in checked
/// 64-bit arithmetic, refused with an <see cref="ArgumentOutOfRangeException"/> naming the quantity and its factors when
/// it cannot be represented. A buffer that passed may then be indexed with plain int products, which cannot wrap.
/// </summary>
internal static class Sizes
{
    /// <summary>
    /// The product of <paramref name="factors"/> (each zero or positive); <paramref name="what"/> names it in the message,
    /// e.g. "maxSteps × maxBatch × 4·H" with one factor per ×. Zero when any factor is zero, however large the others.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A factor is negative, or the product does not fit in 64 bits.</exception>
    public static long Product(string what, params ReadOnlySpan<long> factors)
    {
        foreach (long factor in factors)
        {
            if (factor < 0) ThrowNegative(what, factors);
        }

        if (factors.Contains(0)) return 0;
        long product = 1;
        foreach (long factor in factors)
        {
            if (product > long.MaxValue / factor) ThrowTooLarge(what, factors, null, "does not fit in 64 bits");
            product *= factor;
        }

        return product;
    }

    /// <summary>The product of <paramref name="factors"/> as an array length (at most <see cref="Array.MaxLength"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The product is larger than the largest array .NET can allocate.</exception>
    public static int Elements(string what, params ReadOnlySpan<long> factors)
    {
        long product = Product(what, factors);
        if (product > Array.MaxLength)
            ThrowTooLarge(what, factors, product, string.Create(CultureInfo.InvariantCulture, $"exceeds the largest array, {Array.MaxLength} elements"));
        return (int)product;
    }

    /// <summary><paramref name="value"/> rounded up to whole <paramref name="multiple"/>s (a row padded to whole vectors), checked like <see cref="Elements"/>.</summary>
    public static int RoundUp(string what, int value, int multiple) => Elements(what, ((long)value + multiple - 1) / multiple, multiple);

    private static string Formula(string what, ReadOnlySpan<long> factors)
    {
        var terms = new string[factors.Length];
        for (int i = 0; i < factors.Length; i++) terms[i] = factors[i].ToString(CultureInfo.InvariantCulture);
        return $"{what} = {string.Join(" × ", terms)}";
    }

    [DoesNotReturn]
    private static void ThrowNegative(string what, ReadOnlySpan<long> factors) =>
        throw new ArgumentOutOfRangeException(null, $"{Formula(what, factors)} has a negative factor.");

    [DoesNotReturn]
    private static void ThrowTooLarge(string what, ReadOnlySpan<long> factors, long? product, string problem) =>
        throw new ArgumentOutOfRangeException(null, string.Create(CultureInfo.InvariantCulture,
            $"{Formula(what, factors)}{(product is long p ? $" = {p}" : "")} {problem}."));
}
