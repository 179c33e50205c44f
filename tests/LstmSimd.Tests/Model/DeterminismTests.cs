using FsCheck;
using FsCheck.Fluent;
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

public class ThreadingTests
{
    public static TheoryData<int, bool> Configurations() => new() { { 2, false }, { 2, true }, { 3, false }, { 3, true } };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Any_thread_count_gives_the_single_thread_answer_bitwise(int threads, bool bidirectional)
    {
        var testCase = new LstmCase(new LstmSpec(40, 100, 2, bidirectional, projectionSize: bidirectional ? 0 : 30), Steps: 9, Batch: 7,
            WithInitialState: true, WithLengths: true, SequenceLayout.TimeMajor, Seed: threads);
        float[] expected = testCase.RunFast(LstmModel.Create(testCase.Weights)).Output;
        LstmModel threaded = LstmModel.Create(testCase.Weights, new LstmModelOptions { Threads = threads });
        for (int repeat = 0; repeat < 3; repeat++)
            Assert.Equal(expected, testCase.RunFast(threaded).Output);
    }

    /// <summary>
    /// One thread runs a single sequence's step loop inside the kernel; two threads run that loop together on a unidirectional
    /// one, each over its own blocks, meeting after every step, and run a bidirectional one's directions concurrently.
    /// </summary>
    [Theory]
    [InlineData(false, 7)]
    [InlineData(true, 8)]
    public void A_single_sequence_gives_the_same_bits_on_one_thread_and_on_two(bool bidirectional, int steps)
    {
        var testCase = new LstmCase(new LstmSpec(24, 100, 2, bidirectional), steps, Batch: 1, WithInitialState: true, WithLengths: false,
            SequenceLayout.BatchFirst, Seed: steps);
        (float[] output, float[] h, float[] c) = testCase.RunFast(LstmModel.Create(testCase.Weights));
        (float[] output2, float[] h2, float[] c2) = testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Threads = 2 }));
        Assert.Equal(output, output2);
        Assert.Equal(h, h2);
        Assert.Equal(c, c2);
    }

    /// <summary>
    /// Steps below a minimum of work run on the calling thread even with a team; sharing every step regardless must still give
    /// one thread's bits on random small shapes (blocks fewer than threads, one unit, projections, lengths, both directions).
    /// </summary>
    [Fact]
    public void Small_shapes_shared_across_two_threads_match_one_thread_bitwise()
    {
        Prop.ForAll(FastMatchesReferenceTests.Cases(software: false).ToArbitrary(), testCase =>
        {
            LstmModel two = LstmModel.Create(testCase.Weights, new LstmModelOptions { Threads = 2 });
            (float[] output, float[] h, float[] c) = testCase.RunFast(LstmModel.Create(testCase.Weights));
            (float[] output2, float[] h2, float[] c2) = testCase.RunFast(two, session => session.ShareEveryStep());
            Assert.Equal(output, output2);
            Assert.Equal(h, h2);
            Assert.Equal(c, c2);
            if (testCase.Spec.Bidirectional) return;
            LstmCase streaming = testCase with { WithLengths = false, Layout = SequenceLayout.TimeMajor, WithInitialState = false };
            Assert.Equal(streaming.RunStreaming(LstmModel.Create(testCase.Weights)).Output, streaming.RunStreaming(two, session => session.ShareEveryStep()).Output);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(40));
    }

    /// <summary>
    /// A team running one sequence's step loop together (each member its blocks, a barrier after every step) must give one
    /// thread's bits whatever the shape: fewer blocks than members, odd and even step counts (the last h is copied back from
    /// the spare buffer after odd ones), reverse direction, three members, every float weight format.
    /// </summary>
    [Fact]
    public void A_team_sharing_one_sequence_gives_one_threads_bits()
    {
        Gen<(int Hidden, int Steps, int Threads, WeightFormat Format, bool Bidirectional)> shapes =
            from hidden in Gen.Choose(1, 70)
            from steps in Gen.Choose(0, 9)
            from threads in Gen.Choose(2, 3)
            from format in Gen.Elements(WeightFormat.Float32, WeightFormat.Float16, WeightFormat.BFloat16)
            from bidirectional in Gen.Elements(false, true)
            select (hidden, steps, threads, format, bidirectional);
        Prop.ForAll(shapes.ToArbitrary(), shape =>
        {
            var testCase = new LstmCase(new LstmSpec(5, shape.Hidden, 2, shape.Bidirectional), shape.Steps, Batch: 1, WithInitialState: true,
                WithLengths: false, SequenceLayout.TimeMajor, Seed: shape.Hidden * 10 + shape.Steps);
            (float[] output, float[] h, float[] c) = testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Weights = shape.Format }));
            LstmModel team = LstmModel.Create(testCase.Weights, new LstmModelOptions { Weights = shape.Format, Threads = shape.Threads });
            for (int repeat = 0; repeat < 2; repeat++)
            {
                (float[] output2, float[] h2, float[] c2) = testCase.RunFast(team, session => session.ShareEveryStep());
                Assert.Equal(output, output2);
                Assert.Equal(h, h2);
                Assert.Equal(c, c2);
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    [Fact]
    public void Streaming_steps_on_several_threads_match_one_thread_bitwise()
    {
        var spec = new LstmSpec(24, 96, 2, projectionSize: 40);
        LstmWeights weights = LstmWeights.CreateRandom(spec, 8);
        using LstmSession single = LstmModel.Create(weights).CreateSession(3);
        using LstmSession threaded = LstmModel.Create(weights, new LstmModelOptions { Threads = 2 }).CreateSession(3);
        float[] x = LstmCase.Uniform(3 * 24, 1, 1), a = new float[3 * 40], b = new float[3 * 40];
        for (int t = 0; t < 10; t++)
        {
            single.Step(x, 3, a);
            threaded.Step(x, 3, b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void A_warm_threaded_forward_allocates_zero_bytes_on_the_calling_thread()
    {
        var testCase = new LstmCase(new LstmSpec(32, 64, 2, bidirectional: true), Steps: 10, Batch: 4, WithInitialState: false, WithLengths: false, SequenceLayout.TimeMajor, Seed: 1);
        using LstmSession session = LstmModel.Create(testCase.Weights, new LstmModelOptions { Threads = 2 }).CreateSession(4, 10);
        float[] output = new float[testCase.OutputLength], input = testCase.Input;
        session.Forward(input, 10, 4, output);
        Assert.Equal(0, Allocations.LeastOver(() => session.Forward(input, 10, 4, output), 5));
    }

    [Fact]
    public void Thread_counts_outside_1_to_64_are_rejected()
    {
        LstmWeights weights = LstmWeights.CreateRandom(new LstmSpec(2, 3), 1);
        Assert.ThrowsAny<ArgumentException>(() => LstmModel.Create(weights, new LstmModelOptions { Threads = 0 }));
        Assert.ThrowsAny<ArgumentException>(() => LstmModel.Create(weights, new LstmModelOptions { Threads = 65 }));
    }
}

public class MemorySafetyTests
{
    /// <summary>The session hands raw pointers to its kernels; a compacting collection mid-call must not move what they point at.</summary>
    [Fact]
    public void Stacked_layers_give_the_same_answer_while_collections_compact_the_heap()
    {
        var testCase = new LstmCase(new LstmSpec(12, 40, 3, bidirectional: true), Steps: 20, Batch: 3, WithInitialState: true, WithLengths: true, SequenceLayout.BatchFirst, Seed: 9);
        LstmModel model = LstmModel.Create(testCase.Weights);
        float[] expected = testCase.RunFast(model).Output;
        using var stop = new CancellationTokenSource();
        var churn = new Thread(() =>
        {
            var keep = new List<byte[]>();
            while (!stop.IsCancellationRequested)
            {
                keep.Add(new byte[1000 + keep.Count % 5000]);
                if (keep.Count > 2000) keep.RemoveRange(0, 1000);
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            }
        });
        churn.Start();
        try
        {
            for (int repeat = 0; repeat < 30; repeat++)
                Assert.Equal(expected, testCase.RunFast(model).Output);
        }
        finally
        {
            stop.Cancel();
            churn.Join();
        }
    }
}
