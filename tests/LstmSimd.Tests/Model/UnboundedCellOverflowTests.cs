using LstmSimd.Kernels;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>
/// A ReLU activation gives the cell state no bound, so finite inputs the sum checks let in can still carry c past fp32's
/// range over many steps, where the float64 reference stays finite. Such runs throw an <see cref="OverflowException"/>
/// naming the layer and the element instead of returning ±∞ or NaN; runs that stay in range, and NaN inputs (NaN in
/// gives NaN out), do not.
/// </summary>
public class UnboundedCellOverflowTests
{
    private const int Input = 2, Hidden = 3;

    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_ReLU_candidate_whose_cell_state_outgrows_fp32_is_refused_after_Forward(KernelPath path)
    {
        using LstmSession session = AccumulatingModel(path).CreateSession(1, 40);
        float[] input = Constant(40, 1e37f);
        var error = Assert.Throws<OverflowException>(() => session.Forward(input, 40, 1, new float[40 * Hidden]));
        Assert.Contains("Layer 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("c[0]", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_ReLU_candidate_whose_cell_state_outgrows_fp32_is_refused_by_the_step_that_overflows(KernelPath path)
    {
        using LstmSession session = AccumulatingModel(path).CreateSession(1, 1);
        float[] x = Constant(1, 1e37f), output = new float[Hidden];
        int steps = 0;
        Assert.Throws<OverflowException>(() =>
        {
            for (; steps < 40; steps++) session.Step(x, 1, output);
        });

        // c grows by about 1e37 a step: fp32's 3.4e38 is passed at the 35th.
        Assert.InRange(steps, 33, 35);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_ReLU_candidate_that_stays_in_range_runs_to_the_end(KernelPath path)
    {
        using LstmSession session = AccumulatingModel(path).CreateSession(1, 10);
        float[] cN = new float[Hidden];
        session.Forward(Constant(10, 1e36f), 10, 1, new float[10 * Hidden], cN: cN);
        Assert.All(cN, c => Assert.InRange(c, 9e36f, 1.1e37f));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_NaN_input_to_a_ReLU_cell_gives_NaN_not_an_overflow(KernelPath path)
    {
        using LstmSession session = AccumulatingModel(path).CreateSession(1, 4);
        float[] input = Constant(4, 1f), output = new float[4 * Hidden];
        input[Input] = float.NaN;
        session.Forward(input, 4, 1, output);
        Assert.All(output.AsSpan(Hidden).ToArray(), v => Assert.True(float.IsNaN(v)));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void NaN_weights_in_a_ReLU_cell_give_NaN_not_an_overflow(KernelPath path)
    {
        var spec = new LstmSpec(Input, Hidden) { Cell = CellVariant.Standard with { Candidate = new Activation(ActivationKind.Relu) } };
        LstmWeights weights = LstmWeights.CreateRandom(spec, 5);
        weights[0, 0].WeightHh[4] = float.NaN;
        using LstmSession session = LstmModel.Create(weights, new LstmModelOptions { Kernel = path }).CreateSession(1, 3);
        float[] cN = new float[Hidden];
        session.Forward(Constant(3, 1f), 3, 1, new float[3 * Hidden], cN: cN);
        Assert.Contains(cN, float.IsNaN);
    }

    /// <summary>i and f saturated open, candidate = ReLU(x_0): c adds x_0 at every step.</summary>
    private static LstmModel AccumulatingModel(KernelPath path)
    {
        var spec = new LstmSpec(Input, Hidden) { Cell = CellVariant.Standard with { Candidate = new Activation(ActivationKind.Relu) } };
        LstmWeights weights = LstmWeights.CreateZero(spec);
        LstmLayerWeights w = weights[0, 0];
        for (int u = 0; u < Hidden; u++)
        {
            w.BiasIh[u] = 30f; // i
            w.BiasIh[Hidden + u] = 30f; // f
            w.WeightIh[(2 * Hidden + u) * Input] = 1f; // g from x_0
        }

        return LstmModel.Create(weights, new LstmModelOptions { Kernel = path });
    }

    private static float[] Constant(int steps, float x0)
    {
        float[] input = new float[steps * Input];
        for (int t = 0; t < steps; t++) input[t * Input] = x0;
        return input;
    }
}
