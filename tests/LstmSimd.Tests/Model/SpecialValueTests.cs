using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

public class SpecialValueTests
{
    public static TheoryData<KernelPath> Paths() => [.. LstmSimd.Kernels.KernelSelector.All];

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_NaN_input_makes_that_step_and_every_later_step_NaN(KernelPath path)
    {
        var spec = new LstmSpec(9, 17);
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(spec, 4), new LstmModelOptions { Kernel = path });
        float[] input = LstmCase.Uniform(6 * 9, 1, 1);
        input[2 * 9 + 4] = float.NaN;
        float[] output = new float[6 * 17];
        using LstmSession session = model.CreateSession(1, 6);
        session.Forward(input, 6, 1, output);
        for (int t = 0; t < 6; t++)
            for (int u = 0; u < 17; u++)
                Assert.Equal(t >= 2, float.IsNaN(output[t * 17 + u]));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Huge_finite_inputs_saturate_the_gates_without_producing_NaN(KernelPath path)
    {
        var spec = new LstmSpec(9, 17, 2);
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(spec, 4), new LstmModelOptions { Kernel = path });
        float[] input = [.. LstmCase.Uniform(6 * 9, 1, 1).Select(v => v * 1e30f)];
        float[] output = new float[6 * 17];
        using LstmSession session = model.CreateSession(1, 6);
        session.Forward(input, 6, 1, output);
        Assert.All(output, v => Assert.InRange(v, -1f, 1f));
    }
}
