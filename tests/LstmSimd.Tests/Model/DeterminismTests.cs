using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

public class DeterminismTests
{
    private static readonly LstmCase Case = new(new LstmSpec(33, 65, 2, bidirectional: true, projectionSize: 17), Steps: 23, Batch: 5,
        WithInitialState: true, WithLengths: true, SequenceLayout.BatchFirst, Seed: 11);

    [Fact]
    public void Rerunning_a_forward_gives_bitwise_identical_output()
    {
        LstmModel model = LstmModel.Create(Case.Weights);
        (float[] first, float[] h1, float[] c1) = Case.RunFast(model);
        (float[] second, float[] h2, float[] c2) = Case.RunFast(model);
        Assert.Equal(Bits(first), Bits(second));
        Assert.Equal(Bits(h1), Bits(h2));
        Assert.Equal(Bits(c1), Bits(c2));
    }

    [Fact]
    public void Two_threads_sharing_one_model_each_get_the_single_thread_answer_bitwise()
    {
        LstmModel model = LstmModel.Create(Case.Weights);
        int[] expected = Bits(Case.RunFast(model).Output);
        var results = new int[2][];
        using var start = new Barrier(2);
        Thread[] threads = [.. Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            float[] output = [];
            for (int repeat = 0; repeat < 20; repeat++) output = Case.RunFast(model).Output;
            results[i] = Bits(output);
        }))];
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) thread.Join();
        Assert.Equal(expected, results[0]);
        Assert.Equal(expected, results[1]);
    }

    [Fact]
    public void A_model_does_not_see_later_changes_to_the_weight_arrays_it_was_built_from()
    {
        LstmWeights weights = Case.Weights.Clone();
        LstmModel model = LstmModel.Create(weights);
        float[] before = (Case with { }).RunFast(model).Output;
        Array.Fill(weights[0, 0].WeightHh, 5f);
        Assert.Equal(Bits(before), Bits(Case.RunFast(model).Output));
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
