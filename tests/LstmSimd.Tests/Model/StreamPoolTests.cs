using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Kernels;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>
/// A stream pool against its definition: each stream computes exactly what a batch-1 session of its own computes from the
/// same inputs in the same order, bit for bit, whatever streams step together and in what order; on every kernel path and
/// weight format, for stacked, projected and variant cells.
/// </summary>
public class StreamPoolTests
{
    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    private static readonly CellVariant[] Cells =
    [
        CellVariant.Standard,
        new(true, 2f, false, Activation.Sigmoid, Activation.Tanh, Activation.Tanh),
        new(false, 0f, true, new Activation(ActivationKind.HardSigmoid, 0.2f, 0.5f), Activation.Tanh, Activation.Sigmoid),
    ];

    /// <summary>A model shape and a schedule: per tick, which streams step (a random subset, in random order) and which are reset.</summary>
    public sealed record Schedule(LstmSpec Spec, int Streams, int[][] Ticks, int[] Resets, int Seed)
    {
        public override string ToString() =>
            $"spec I={Spec.InputSize} H={Spec.HiddenSize} L={Spec.NumLayers} P={Spec.ProjectionSize} cell={(Spec.Cell.IsStandard ? "standard" : Spec.Cell.ToString())} streams={Streams} ticks=[{string.Join(" | ", Ticks.Select(t => string.Join(",", t)))}] resets=[{string.Join(",", Resets)}] seed={Seed}";
    }

    private static Gen<Schedule> Schedules() =>
        from input in Gen.Choose(1, 19)
        from hidden in Gen.Choose(2, 40)
        from layers in Gen.Choose(1, 3)
        from projection in Gen.Choose(0, 2)
        from cell in Gen.Elements(Cells)
        from streams in Gen.Choose(1, 9)
        from tickCount in Gen.Choose(1, 7)
        from seed in Gen.Choose(0, 1_000_000)
        let spec = new LstmSpec(input, hidden, layers, projectionSize: projection == 1 && hidden > 2 ? hidden / 2 : 0) { Cell = projection == 1 && hidden > 2 ? cell with { Peepholes = false } : cell }
        let random = new Random(seed)
        let ticks = Enumerable.Range(0, tickCount).Select(_ => Enumerable.Range(0, streams).Where(_ => random.Next(3) > 0).OrderBy(_ => random.Next()).ToArray()).ToArray()
        let resets = Enumerable.Range(0, tickCount).Select(_ => random.Next(4) == 0 ? random.Next(streams) : -1).ToArray()
        select new Schedule(spec, streams, ticks, resets, seed);

    /// <summary>
    /// Every pool step equals a batch-1 session per stream, bit for bit, on every path and weight format: a row sums each
    /// gate in the same order whether it runs in a register tile with other rows or alone. The same step also equals one
    /// batched session step over the tick's streams gathered as rows in the tick's order.
    /// </summary>
    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void Pool_steps_equal_a_batch_1_session_per_stream_bit_for_bit_whatever_the_schedule(KernelPath path, WeightFormat format) =>
        CheckSchedules(path, format);

    public static TheoryData<KernelPath, WeightFormat> PathsAndFormats()
    {
        var data = new TheoryData<KernelPath, WeightFormat>();
        foreach (KernelPath path in KernelSelector.All)
            foreach (WeightFormat format in Enum.GetValues<WeightFormat>()) data.Add(path, format);
        return data;
    }

    private static void CheckSchedules(KernelPath path, WeightFormat format)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(Schedules().ToArbitrary(), schedule =>
        {
            LstmSpec spec = schedule.Spec;
            LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(spec, schedule.Seed), new LstmModelOptions { Kernel = path, Weights = format });
            using var pool = new LstmStreamPool<string>(model, schedule.Streams + 2);
            var sessions = new LstmSession[schedule.Streams];
            for (int s = 0; s < schedule.Streams; s++)
            {
                pool.Add($"sensor-{s}");
                sessions[s] = model.CreateSession();
            }

            // The definition, kept apart from the pool: each stream's state, and one session that steps a tick's rows.
            int i = spec.InputSize, hOut = spec.OutputHiddenSize, hSize = spec.NumLayers * hOut, cSize = spec.NumLayers * spec.HiddenSize;
            float[][] streamH = [.. Enumerable.Range(0, schedule.Streams).Select(_ => new float[hSize])];
            float[][] streamC = [.. Enumerable.Range(0, schedule.Streams).Select(_ => new float[cSize])];
            using LstmSession rows = model.CreateSession(schedule.Streams);
            float[] single = new float[hOut];
            for (int t = 0; t < schedule.Ticks.Length; t++)
            {
                int[] active = schedule.Ticks[t];
                int k = active.Length;
                string[] keys = [.. active.Select(s => $"sensor-{s}")];
                float[] inputs = LstmCase.Uniform(k * i, schedule.Seed + t, 1.5), outputs = new float[k * hOut];
                pool.Step(keys, inputs, outputs);
                if (k > 0)
                {
                    float[] h = new float[k * hSize], c = new float[k * cSize], expected = new float[k * hOut];
                    for (int layer = 0; layer < spec.NumLayers; layer++)
                        for (int row = 0; row < k; row++)
                        {
                            streamH[active[row]].AsSpan(layer * hOut, hOut).CopyTo(h.AsSpan((layer * k + row) * hOut));
                            streamC[active[row]].AsSpan(layer * spec.HiddenSize, spec.HiddenSize).CopyTo(c.AsSpan((layer * k + row) * spec.HiddenSize));
                        }

                    rows.SetState(h, c, k);
                    rows.Step(inputs, k, expected);
                    rows.GetState(h, c, k);
                    for (int layer = 0; layer < spec.NumLayers; layer++)
                        for (int row = 0; row < k; row++)
                        {
                            h.AsSpan((layer * k + row) * hOut, hOut).CopyTo(streamH[active[row]].AsSpan(layer * hOut));
                            c.AsSpan((layer * k + row) * spec.HiddenSize, spec.HiddenSize).CopyTo(streamC[active[row]].AsSpan(layer * spec.HiddenSize));
                        }

                    AssertBitwise(expected, outputs, $"tick {t} against its rows stepped together, {schedule}");
                }

                for (int row = 0; row < k; row++)
                {
                    sessions[active[row]].Step(inputs.AsSpan(row * i, i), 1, single);
                    string what = $"tick {t} row {row} (stream {active[row]}) against batch 1, {schedule}";
                    AssertBitwise(single, outputs.AsSpan(row * hOut, hOut), what);
                }

                if (schedule.Resets[t] is int reset and >= 0)
                {
                    pool.Reset($"sensor-{reset}");
                    sessions[reset].ResetState();
                    Array.Clear(streamH[reset]);
                    Array.Clear(streamC[reset]);
                }
            }

            foreach (LstmSession session in sessions) session.Dispose();
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 8 : 25));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_warm_pool_step_allocates_zero_bytes_whatever_the_subset(KernelPath path)
    {
        var spec = new LstmSpec(12, 24, 2, projectionSize: 10);
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(spec, 5), new LstmModelOptions { Kernel = path });
        using var pool = new LstmStreamPool<long>(model, 16);
        for (long key = 0; key < 16; key++) pool.Add(key * 1000);
        long[] all = [.. Enumerable.Range(0, 16).Select(k => k * 1000L).Reverse()], some = [5000, 0, 12000];
        float[] x = LstmCase.Uniform(16 * 12, 2, 1), y = new float[16 * 10];
        void Tick()
        {
            pool.Step(all, x, y);
            pool.Step(some, x.AsSpan(0, 3 * 12), y.AsSpan(0, 3 * 10));
        }

        Tick();
        Assert.Equal(0, Allocations.LeastOver(Tick, 10));
    }

    [Fact]
    public void Stepping_a_stream_changes_no_other_stream()
    {
        var spec = new LstmSpec(3, 8);
        using var pool = new LstmStreamPool<int>(LstmModel.Create(LstmWeights.CreateRandom(spec, 1)), 4);
        pool.Add(1);
        pool.Add(2);
        pool.Step([1, 2], LstmCase.Uniform(6, 1, 1), new float[16]);
        float[] h = new float[8], c = new float[8], hAfter = new float[8], cAfter = new float[8];
        pool.GetState(2, h, c);
        pool.Step([1], LstmCase.Uniform(3, 2, 1), new float[8]);
        pool.GetState(2, hAfter, cAfter);
        Assert.Equal(h, hAfter);
        Assert.Equal(c, cAfter);
        Assert.Contains(h, v => v != 0);
    }

    [Fact]
    public void Concurrent_producers_each_stepping_their_own_streams_while_others_come_and_go_get_the_batch_1_answers()
    {
        // A stream's answers do not depend on which streams shared its step (see above), so the batch-1 sessions are the
        // expectation however the threads interleave.
        var spec = new LstmSpec(5, 16, 2);
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(spec, 9));
        const int Producers = 4, StreamsEach = 6, Ticks = 60;
        using var pool = new LstmStreamPool<string>(model, Producers * StreamsEach + 4);
        for (int p = 0; p < Producers; p++)
            for (int s = 0; s < StreamsEach; s++) pool.Add($"{p}/{s}");

        // Each producer records its streams' inputs and outputs in the order it stepped them.
        var inputs = new List<float[]>[Producers * StreamsEach];
        var outputs = new List<float[]>[Producers * StreamsEach];
        for (int i = 0; i < inputs.Length; i++) (inputs[i], outputs[i]) = ([], []);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var start = new Barrier(Producers + 1);
        void Produce(int producer)
        {
            var random = new Random(producer);
            start.SignalAndWait();
            try
            {
                for (int t = 0; t < Ticks; t++)
                {
                    int[] active = [.. Enumerable.Range(0, StreamsEach).Where(_ => random.Next(2) == 0).OrderBy(_ => random.Next())];
                    float[] x = LstmCase.Uniform(active.Length * 5, producer * 1000 + t, 1), y = new float[active.Length * 16];
                    pool.Step([.. active.Select(s => $"{producer}/{s}")], x, y);
                    for (int row = 0; row < active.Length; row++)
                    {
                        inputs[producer * StreamsEach + active[row]].Add(x[(row * 5)..((row + 1) * 5)]);
                        outputs[producer * StreamsEach + active[row]].Add(y[(row * 16)..((row + 1) * 16)]);
                    }
                }
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        }

        void Churn()
        {
            start.SignalAndWait();
            try
            {
                for (int t = 0; t < Ticks; t++)
                {
                    pool.Add($"guest-{t}");
                    pool.Step([$"guest-{t}"], new float[5], new float[16]);
                    Assert.True(pool.Remove($"guest-{t}"));
                    using var saved = new MemoryStream();
                    pool.SaveState(saved);
                }
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        }

        Thread[] threads = [.. Enumerable.Range(0, Producers).Select(p => new Thread(() => Produce(p))), new Thread(Churn)];
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "a producer did not finish");
        Assert.Empty(errors);

        float[] expected = new float[16];
        for (int stream = 0; stream < inputs.Length; stream++)
        {
            using LstmSession session = model.CreateSession();
            for (int t = 0; t < inputs[stream].Count; t++)
            {
                session.Step(inputs[stream][t], 1, expected);
                AssertBitwise(expected, outputs[stream][t], $"stream {stream} step {t}");
            }
        }

        Assert.Equal(Producers * StreamsEach, pool.Count);
    }

    [Fact]
    public void Bad_calls_are_refused_with_the_reason_and_change_nothing()
    {
        var spec = new LstmSpec(3, 8);
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(spec, 1));
        using var pool = new LstmStreamPool<string>(model, 2);
        pool.Add("a");
        pool.Add("b");
        pool.Step(["a", "b"], LstmCase.Uniform(6, 1, 1), new float[16]);
        float[] h = new float[8], c = new float[8];
        pool.GetState("a", h, c);

        Assert.Contains("already in the pool", Assert.Throws<ArgumentException>(() => pool.Add("a")).Message);
        Assert.Contains("full", Assert.Throws<InvalidOperationException>(() => pool.Add("c")).Message);
        Assert.Contains("'zzz'", Assert.Throws<KeyNotFoundException>(() => pool.Step(["a", "zzz"], new float[6], new float[16])).Message);
        Assert.Contains("named twice", Assert.Throws<ArgumentException>(() => pool.Step(["a", "a"], new float[6], new float[16])).Message);
        Assert.Contains("inputs", Assert.Throws<ArgumentException>(() => pool.Step(["a"], new float[4], new float[8])).Message);
        Assert.Contains("outputs", Assert.Throws<ArgumentException>(() => pool.Step(["a"], new float[3], new float[7])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Step(["a"], [float.MaxValue, 0, 0], new float[8]));
        Assert.Throws<KeyNotFoundException>(() => pool.Reset("zzz"));
        Assert.Contains("h", Assert.Throws<ArgumentException>(() => pool.SetState("a", new float[7], new float[8])).Message);

        float[] hAfter = new float[8], cAfter = new float[8];
        pool.GetState("a", hAfter, cAfter);
        Assert.Equal(h, hAfter);
        Assert.Equal(c, cAfter);
        Assert.Contains("bidirectional", Assert.Throws<ArgumentException>(() =>
            new LstmStreamPool<int>(LstmModel.Create(LstmWeights.CreateRandom(spec with { Bidirectional = true }, 1)), 2)).Message);

        Assert.False(pool.Remove("zzz"));
        Assert.True(pool.Remove("a"));
        pool.Add("c"); // the freed slot starts from zero state
        pool.GetState("c", hAfter, cAfter);
        Assert.All(hAfter, v => Assert.Equal(0f, v));
        Assert.All(cAfter, v => Assert.Equal(0f, v));
    }

    internal static void AssertBitwise(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, a batch-1 session gives {expected[i]:R}");
        }
    }
}
