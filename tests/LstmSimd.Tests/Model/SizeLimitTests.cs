using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>
/// Sizes that valid arguments can ask for but no int can hold are refused where they are planned, with an
/// <see cref="ArgumentOutOfRangeException"/> naming the quantity, never wrapped into a small buffer that later calls
/// write past. None of these cases allocates more than a few megabytes.
/// </summary>
public class SizeLimitTests
{
    [Theory]
    [InlineData(1, 1 << 30, "4 × HiddenSize")]          // 4H wraps to 0
    [InlineData(1 << 20, 1 << 10, "W_ih values")]       // 4H × I = 2^32
    [InlineData(1, 1 << 16, "W_hh values")]             // 4H × H = 2^34
    public void A_spec_whose_tensors_cannot_be_arrays_is_refused(int inputSize, int hiddenSize, string quantity)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LstmSpec(inputSize, hiddenSize));
        Assert.Contains(quantity, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_with_expression_cannot_make_a_spec_invalid()
    {
        var spec = new LstmSpec(3, 4);
        Assert.Equal("HiddenSize", Assert.Throws<ArgumentOutOfRangeException>(() => spec with { HiddenSize = 0 }).ParamName);
        Assert.Equal("InputSize", Assert.Throws<ArgumentOutOfRangeException>(() => spec with { InputSize = -1 }).ParamName);
        Assert.Equal("NumLayers", Assert.Throws<ArgumentOutOfRangeException>(() => spec with { NumLayers = 0 }).ParamName);
        Assert.Equal("ProjectionSize", Assert.Throws<ArgumentOutOfRangeException>(() => spec with { ProjectionSize = -1 }).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => spec with { HiddenSize = 1 << 30 });
        Assert.Throws<ArgumentNullException>(() => spec with { Cell = null! });
        Assert.Throws<ArgumentOutOfRangeException>(() => spec with { Cell = CellVariant.Standard with { Clip = -1f } });

        // Rules between fields are checked wherever a spec is used: a projection as large as H passes its own setter.
        LstmSpec wide = spec with { ProjectionSize = 4 };
        Assert.Throws<ArgumentOutOfRangeException>(() => LstmWeights.CreateZero(wide));
        Assert.Equal(new LstmSpec(3, 5, projectionSize: 4), spec with { HiddenSize = 5, ProjectionSize = 4 });
    }

    [Fact]
    public void Sizes_multiply_in_64_bits_name_the_quantity_and_treat_a_zero_factor_as_zero()
    {
        Assert.Equal(0, Sizes.Product("t", 0, long.MaxValue, long.MaxValue));
        Assert.Equal(Array.MaxLength, Sizes.Elements("t", Array.MaxLength, 1));
        Assert.Contains("rows × width = 2147483591 × 2 = 4294967182 exceeds the largest array",
            Assert.Throws<ArgumentOutOfRangeException>(() => Sizes.Elements("rows × width", Array.MaxLength, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("does not fit in 64 bits", Assert.Throws<ArgumentOutOfRangeException>(() => Sizes.Product("x", 1L << 32, 1L << 32)).Message, StringComparison.Ordinal);
        Assert.Contains("negative", Assert.Throws<ArgumentOutOfRangeException>(() => Sizes.Product("x", 2, -1)).Message, StringComparison.Ordinal);
    }
}
