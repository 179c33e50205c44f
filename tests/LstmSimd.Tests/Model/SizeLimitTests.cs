using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using LstmSimd.Training;
using LstmSimd.Shared;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>
/// Sizes that valid arguments can ask for but no int can hold are refused where they are planned, with an
/// <see cref="ArgumentOutOfRangeException"/> naming the quantity, never wrapped into a small buffer that later calls
/// write past. None of these cases allocates more than a few megabytes, and none runs a call on a session that
/// would be mis-sized without the checks.
/// </summary>
public class SizeLimitTests
{
    [Theory]
    [InlineData(4096)] // 4096 × 65536 × 16 = 2^32: wrapped to 0
    [InlineData(4097)] // 2^32 + 2^20: wrapped to a small positive size
    public void A_session_whose_streaming_state_exceeds_an_array_is_refused_at_creation(int layers)
    {
        LstmModel model = LstmModel.Create(LstmWeights.CreateZero(new LstmSpec(1, 16, layers)));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateSession(maxBatch: 65536));
        Assert.Contains("layers × maxBatch", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{layers} × 65536 × 16", error.Message, StringComparison.Ordinal);
        Assert.Contains("exceeds the largest array", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_session_whose_pre_activations_exceed_an_array_is_refused_with_their_name()
    {
        LstmModel model = LstmModel.Create(LstmWeights.CreateZero(new LstmSpec(1, 1)));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateSession(maxBatch: 1 << 16, maxSteps: 1 << 16));
        Assert.Contains("maxSteps × maxBatch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_training_session_trainer_and_gradient_run_too_large_for_an_array_are_refused_before_allocating()
    {
        LstmWeights weights = LstmWeights.CreateZero(new LstmSpec(1, 1));
        Assert.Contains("maxSteps × maxBatch", Assert.Throws<ArgumentOutOfRangeException>(() => new LstmTrainingSession(weights, maxBatch: 1 << 30, maxSteps: 1)).Message, StringComparison.Ordinal);
        Assert.Contains("MaxSteps × MaxBatch", Assert.Throws<ArgumentOutOfRangeException>(() => new LstmTrainer(weights, new TrainableLinearHead(1, 1, new SeededRandom(1)),
            p => new SgdOptimizer(p, 0.1), new LstmTrainerOptions { MaxBatch = 1 << 16, MaxSteps = 1 << 16 })).Message, StringComparison.Ordinal);

        // Zero steps hold no input, so nothing but the size checks bounds the batch.
        Assert.Throws<ArgumentOutOfRangeException>(() => LstmTrainingSession.ComputeGradients(weights, [], steps: 0, batch: 1 << 30));
    }

    [Fact]
    public void The_reference_refuses_states_too_large_for_an_array_before_allocating_them()
    {
        LstmWeights weights = LstmWeights.CreateZero(new LstmSpec(1, 256));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceLstm.Forward(weights, [], steps: 0, batch: 1 << 23));
        Assert.Contains("h_n L·D × B × H_out = 1 × 8388608 × 256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sequence_whose_length_overflows_64_bits_is_refused_not_matched_against_a_wrapped_product()
    {
        // T × B × I = 2^30 × 2^30 × 16 = 2^64, which wraps to 0: the length of an empty input.
        LstmWeights weights = LstmWeights.CreateZero(new LstmSpec(16, 1));
        var error = Assert.ThrowsAny<ArgumentException>(() => ReferenceLstm.Forward(weights, [], steps: 1 << 30, batch: 1 << 30));
        Assert.Contains("expects 18446744073709551616", error.Message, StringComparison.Ordinal);
        using LstmSession session = LstmModel.Create(weights).CreateSession();
        var fast = Assert.Throws<ArgumentOutOfRangeException>(() => session.Forward([], steps: 1 << 30, batch: 1 << 30, []));
        Assert.Contains("does not fit in 64 bits", fast.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Row_counts_and_sequence_lengths_that_overflow_are_refused_not_wrapped()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceReadout.RowCount(Readout.EveryStep, 1 << 16, 1 << 16, [])); // 2^32 rows wrapped to 0
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceReadout.RowCount(Readout.EveryStep, int.MaxValue, 2, [int.MaxValue, int.MaxValue]));
        var reversal = Assert.Throws<ArgumentOutOfRangeException>(() => SequenceReversal.ReverseInPlace([], 1 << 30, 1 << 30, 16, [], SequenceLayout.TimeMajor));
        Assert.Contains("does not fit in 64 bits", reversal.Message, StringComparison.Ordinal);
    }

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
    public void A_panel_or_aligned_buffer_too_large_for_an_array_is_refused_with_its_name()
    {
        // 2^10 blocks of 2^15 k × 64 rows × 4 bytes = 2^33 bytes.
        var panel = Assert.Throws<ArgumentOutOfRangeException>(() => PackedPanel.Pack([], GateLayout.Lstm, 1 << 14, 1 << 15, 16));
        Assert.Contains("packed panel bytes", panel.Message, StringComparison.Ordinal);
        var buffer = Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBuffer<byte>(int.MaxValue - 10));
        Assert.Contains("aligned buffer", buffer.Message, StringComparison.Ordinal);
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
