using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Forecasting;
using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>
/// Forecast streams and the batched forecaster against their definition: each stream's forecast is, bit for bit, what
/// <see cref="LstmForecaster.Predict"/> gives for a series made of that stream's values (written out as CSV text and read
/// back as a <see cref="ForecastSeries"/>, as the tool reads one), whatever streams step together and in what order.
/// </summary>
public class ForecastStreamsTests
{
    /// <summary>How a forecaster's columns relate: one input that is the target, a target among several inputs, a target apart.</summary>
    public enum ColumnShape
    {
        TargetIsTheInput,
        TargetAmongInputs,
        TargetApart,
    }

    public sealed record Schedule(ColumnShape Shape, SeriesNormalization Normalization, int Window, int Horizon, int Hidden, int Layers, int Streams, int[][] Ticks, int[] Resets, int Seed)
    {
        public override string ToString() =>
            $"{Shape} {Normalization} window={Window} horizon={Horizon} H={Hidden} L={Layers} streams={Streams} ticks=[{string.Join(" | ", Ticks.Select(t => string.Join(",", t)))}] resets=[{string.Join(",", Resets)}] seed={Seed}";
    }

    private static Gen<Schedule> Schedules() =>
        from shape in Gen.Elements(Enum.GetValues<ColumnShape>())
        from normalization in Gen.Elements(Enum.GetValues<SeriesNormalization>())
        from window in Gen.Choose(1, 5)
        from horizon in Gen.Choose(1, 4)
        from hidden in Gen.Choose(2, 20)
        from layers in Gen.Choose(1, 2)
        from streams in Gen.Choose(1, 6)
        from tickCount in Gen.Choose(1, 14)
        from seed in Gen.Choose(0, 1_000_000)
        let random = new Random(seed)
        let ticks = Enumerable.Range(0, tickCount).Select(_ => Enumerable.Range(0, streams).Where(_ => random.Next(4) > 0).OrderBy(_ => random.Next()).ToArray()).ToArray()
        let resets = Enumerable.Range(0, tickCount).Select(_ => random.Next(6) == 0 ? random.Next(streams) : -1).ToArray()
        select new Schedule(shape, normalization, window, horizon, hidden, layers, streams, ticks, resets, seed);

    public static TheoryData<KernelPath, WeightFormat> PathsAndFormats()
    {
        var data = new TheoryData<KernelPath, WeightFormat>();
        foreach (KernelPath path in KernelSelector.All)
            foreach (WeightFormat format in Enum.GetValues<WeightFormat>()) data.Add(path, format);
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void Every_stream_forecast_equals_the_single_series_forecast_of_its_values_bit_for_bit_whatever_the_schedule(KernelPath path, WeightFormat format)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(Schedules().ToArbitrary(), schedule =>
        {
            using LstmForecaster forecaster = MakeForecaster(schedule.Shape, schedule.Normalization, schedule.Window, schedule.Horizon, schedule.Hidden, schedule.Layers, schedule.Seed,
                new LstmModelOptions { Kernel = path, Weights = format });
            using var streams = new ForecastStreams<string>(forecaster, schedule.Streams + 1);
            int columns = streams.Columns.Count, horizon = schedule.Horizon;
            var history = new List<double[]>[schedule.Streams]; // each stream's rows since it was added or reset: the definition's input
            for (int s = 0; s < schedule.Streams; s++)
            {
                streams.Add($"pump-{s}");
                history[s] = [];
            }

            var random = new Random(schedule.Seed);
            for (int t = 0; t < schedule.Ticks.Length; t++)
            {
                int[] active = schedule.Ticks[t];
                int k = active.Length;
                double[] values = [.. Enumerable.Range(0, k * columns).Select(_ => 50 + random.NextDouble() * 20)];
                double[] forecasts = new double[k * horizon], expected = new double[k];
                streams.Step([.. active.Select(s => $"pump-{s}")], values, forecasts, expected);
                for (int row = 0; row < k; row++)
                {
                    List<double[]> rows = history[active[row]];
                    rows.Add(values.AsSpan(row * columns, columns).ToArray());
                    string what = $"tick {t} row {row} (stream {active[row]}, {rows.Count} rows), {schedule}";
                    AssertBitwise(Definition(forecaster, streams.Columns, rows, rows.Count - 1), forecasts.AsSpan(row * horizon, horizon), what);
                    AssertBitwise(Definition(forecaster, streams.Columns, rows, rows.Count - 2).AsSpan(0, 1), expected.AsSpan(row, 1), $"expected value, {what}");
                    Assert.Equal(Math.Min(rows.Count, schedule.Window), streams.Held($"pump-{active[row]}"));
                }

                if (schedule.Resets[t] is int reset and >= 0)
                {
                    streams.Reset($"pump-{reset}");
                    history[reset].Clear();
                }
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 4 : 12));
    }

    [Fact]
    public void A_batch_larger_than_one_call_runs_in_several_and_each_window_still_gets_its_single_series_forecast()
    {
        using LstmForecaster forecaster = MakeForecaster(ColumnShape.TargetApart, SeriesNormalization.Relative, window: 4, horizon: 3, hidden: 12, layers: 2, seed: 7);
        using var batched = new BatchedForecaster(forecaster, maxBatch: 3);
        int columns = batched.Columns.Count, batch = 8;
        var random = new Random(3);
        double[] windows = [.. Enumerable.Range(0, batch * 4 * columns).Select(_ => random.NextDouble() * 100 - 50)];
        double[] forecasts = new double[batch * 3];
        batched.Predict(windows, batch, forecasts);
        for (int b = 0; b < batch; b++)
        {
            List<double[]> rows = [.. Enumerable.Range(0, 4).Select(k => windows.AsSpan((b * 4 + k) * columns, columns).ToArray())];
            AssertBitwise(Definition(forecaster, batched.Columns, rows, 3), forecasts.AsSpan(b * 3, 3), $"window {b}");
        }
    }

    [Fact]
    public void The_columns_of_a_step_are_the_inputs_then_the_target_when_it_is_not_an_input()
    {
        using LstmForecaster apart = MakeForecaster(ColumnShape.TargetApart, SeriesNormalization.ZScore, 2, 1, 4, 1, 1);
        using LstmForecaster among = MakeForecaster(ColumnShape.TargetAmongInputs, SeriesNormalization.ZScore, 2, 1, 4, 1, 1);
        using var a = new ForecastStreams<int>(apart, 1);
        using var b = new ForecastStreams<int>(among, 1);
        Assert.Equal(["a", "b", "y"], a.Columns);
        Assert.Equal(["a", "y"], b.Columns);
    }

    [Fact]
    public void A_warm_step_allocates_zero_bytes_whatever_the_subset()
    {
        using LstmForecaster forecaster = MakeForecaster(ColumnShape.TargetAmongInputs, SeriesNormalization.Relative, window: 6, horizon: 4, hidden: 24, layers: 1, seed: 2);
        using var streams = new ForecastStreams<long>(forecaster, 16);
        for (long key = 0; key < 16; key++) streams.Add(key);
        long[] all = [.. Enumerable.Range(0, 16).Select(k => (long)k).Reverse()], some = [5, 0, 12];
        double[] x = [.. Enumerable.Range(0, 16 * 2).Select(i => 10.0 + i % 7)], y = new double[16 * 4], expected = new double[16];
        void Tick()
        {
            streams.Step(all, x, y, expected);
            streams.Step(some, x.AsSpan(0, 3 * 2), y.AsSpan(0, 3 * 4), expected.AsSpan(0, 3));
        }

        for (int i = 0; i < 6; i++) Tick(); // fills every window
        Assert.Equal(0, Allocations.LeastOver(Tick, 10));
        Assert.DoesNotContain(y, double.IsNaN);
    }

    [Fact]
    public void A_stream_holds_at_most_the_window_and_forecasts_only_once_it_is_full()
    {
        using LstmForecaster forecaster = MakeForecaster(ColumnShape.TargetIsTheInput, SeriesNormalization.Relative, window: 3, horizon: 2, hidden: 8, layers: 1, seed: 4);
        using var streams = new ForecastStreams<string>(forecaster, 2);
        streams.Add("s");
        double[] forecast = new double[2];
        for (int i = 1; i <= 5; i++)
        {
            streams.Step(["s"], [i], forecast);
            Assert.Equal(Math.Min(i, 3), streams.Held("s"));
            Assert.Equal(i >= 3, !double.IsNaN(forecast[0]));
        }
    }

    [Fact]
    public void Bad_steps_are_refused_with_the_reason_and_change_no_stream()
    {
        using LstmForecaster forecaster = MakeForecaster(ColumnShape.TargetIsTheInput, SeriesNormalization.ZScore, window: 2, horizon: 1, hidden: 4, layers: 1, seed: 5);
        using var streams = new ForecastStreams<string>(forecaster, 3);
        streams.Add("a");
        streams.Add("b");
        double[] one = new double[1], two = new double[2];
        streams.Step(["a"], [1.0], one);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => streams.Step(["a", "b"], [2.0, double.NaN], two)).Message, StringComparison.Ordinal);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => streams.Step(["a", "a"], [2.0, 3.0], two)).Message, StringComparison.Ordinal);
        Assert.Contains("'c'", Assert.Throws<KeyNotFoundException>(() => streams.Step(["a", "c"], [2.0, 3.0], two)).Message, StringComparison.Ordinal);
        Assert.Contains("keys × columns", Assert.Throws<ArgumentException>(() => streams.Step(["a"], [2.0, 3.0], one)).Message, StringComparison.Ordinal);
        Assert.Equal(1, streams.Held("a"));
        Assert.Equal(0, streams.Held("b"));
    }

    [Fact]
    public void A_restored_state_continues_bit_for_bit_as_the_saving_streams_would()
    {
        using LstmForecaster forecaster = MakeForecaster(ColumnShape.TargetApart, SeriesNormalization.Relative, window: 4, horizon: 2, hidden: 10, layers: 1, seed: 6);
        using var saving = new ForecastStreams<string>(forecaster, 8);
        using var restored = new ForecastStreams<string>(forecaster, 8);
        restored.Add("to be replaced");
        var random = new Random(1);
        string[] keys = ["north", "south", "eäst"];
        foreach (string key in keys) saving.Add(key);
        for (int t = 0; t < 6; t++) saving.Step(keys.AsSpan(0, 1 + t % 3), RandomRow(random, (1 + t % 3) * 3), new double[(1 + t % 3) * 2]);

        using var file = new MemoryStream();
        saving.SaveState(file);
        file.Position = 0;
        restored.RestoreState(file);
        Assert.False(restored.Contains("to be replaced"));
        foreach (string key in keys) Assert.Equal(saving.Held(key), restored.Held(key));
        for (int t = 0; t < 5; t++)
        {
            double[] row = RandomRow(random, 9);
            double[] a = new double[6], b = new double[6], ea = new double[3], eb = new double[3];
            saving.Step(keys, row, a, ea);
            restored.Step(keys, row, b, eb);
            AssertBitwise(a, b, $"tick {t} after the restore");
            AssertBitwise(ea, eb, $"expected values, tick {t} after the restore");
        }
    }

    [Fact]
    public void A_state_for_another_forecaster_format_key_type_or_capacity_or_a_damaged_one_is_refused_and_the_live_streams_stay()
    {
        using LstmForecaster forecaster = MakeForecaster(ColumnShape.TargetIsTheInput, SeriesNormalization.Relative, window: 3, horizon: 2, hidden: 8, layers: 1, seed: 8);
        using LstmForecaster other = MakeForecaster(ColumnShape.TargetIsTheInput, SeriesNormalization.Relative, window: 3, horizon: 2, hidden: 8, layers: 1, seed: 9);
        using LstmForecaster int8 = forecaster.WithWeightFormat(WeightFormat.Int8);
        using var saving = new ForecastStreams<string>(forecaster, 4);
        foreach (string key in new[] { "a", "b", "c" }) saving.Add(key);
        saving.Step(["a", "b", "c"], [1.0, 2.0, 3.0], new double[6]);
        using var file = new MemoryStream();
        saving.SaveState(file);
        byte[] bytes = file.ToArray();

        void Refused(ForecastStreams<string> target, byte[] data, string reason)
        {
            target.Add("live");
            target.Step(["live"], [5.0], new double[2]);
            Assert.Contains(reason, Assert.Throws<InvalidDataException>(() => target.RestoreState(new MemoryStream(data))).Message, StringComparison.Ordinal);
            Assert.Equal(1, target.Count);
            Assert.Equal(1, target.Held("live"));
        }

        using (var s = new ForecastStreams<string>(other, 4)) Refused(s, bytes, "another forecaster");
        using (var s = new ForecastStreams<string>(int8, 4)) Refused(s, bytes, "Int8");
        using (var s = new ForecastStreams<string>(forecaster, 2)) Refused(s, bytes, "more than the capacity");
        using (var s = new ForecastStreams<string>(forecaster, 4)) Refused(s, bytes[..(bytes.Length - 5)], "truncated");
        byte[] flipped = (byte[])bytes.Clone();
        flipped[^40] ^= 1;
        using (var s = new ForecastStreams<string>(forecaster, 4)) Refused(s, flipped, "checksum");
        using (var s = new ForecastStreams<string>(forecaster, 4)) Refused(s, Encoding.ASCII.GetBytes("LSTMSTAT and then some"), "does not start with LSTMFCST");
        using var ints = new ForecastStreams<int>(forecaster, 4);
        Assert.Contains("keyed by string", Assert.Throws<InvalidDataException>(() => ints.RestoreState(new MemoryStream(bytes))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_file_is_written_atomically_and_restored_from_its_path()
    {
        using LstmForecaster forecaster = MakeForecaster(ColumnShape.TargetIsTheInput, SeriesNormalization.None, window: 2, horizon: 1, hidden: 4, layers: 1, seed: 10);
        string path = Path.Combine(Path.GetTempPath(), $"forecast-streams-{Guid.NewGuid():N}.state");
        try
        {
            using var saving = new ForecastStreams<Guid>(forecaster, 2);
            Guid key = Guid.NewGuid();
            saving.Add(key);
            saving.Step([key], [0.25], new double[1]);
            saving.SaveState(path);
            using var restored = new ForecastStreams<Guid>(forecaster, 2);
            restored.RestoreState(path);
            Assert.Equal(1, restored.Held(key));
            Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $".{Path.GetFileName(path)}*"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double[] RandomRow(Random random, int length) => [.. Enumerable.Range(0, length).Select(_ => random.NextDouble() * 10 - 5)];

    /// <summary>
    /// The definition: <see cref="LstmForecaster.Predict"/> at row <paramref name="origin"/> of a series whose rows are
    /// <paramref name="rows"/> after constant filler rows (enough for the split a series needs; a window never reaches
    /// them, and the scaler is the forecaster's own), read from CSV text. NaN for each step when the origin has no full window.
    /// </summary>
    internal static double[] Definition(LstmForecaster forecaster, IReadOnlyList<string> columns, List<double[]> rows, int origin)
    {
        ForecastSettings settings = forecaster.Settings;
        if (origin < settings.Window - 1) return [.. Enumerable.Repeat(double.NaN, settings.Horizon)];
        int filler = Math.Max(0, 120 - rows.Count);
        var csv = new StringBuilder($"t,{string.Join(",", columns)}\n");
        for (int r = 0; r < filler + rows.Count; r++)
        {
            csv.Append(r.ToString(CultureInfo.InvariantCulture));
            foreach (double v in r < filler ? new double[columns.Count] : rows[r - filler]) csv.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
            csv.Append('\n');
        }

        ForecastSeries series = ForecastSeries.From(TimeSeriesTable.Parse(new StringReader(csv.ToString()), "stream", "t"), settings);
        double[] forecast = new double[settings.Horizon];
        forecaster.Predict(series, filler + origin, forecast);
        return forecast;
    }

    internal static LstmForecaster MakeForecaster(ColumnShape shape, SeriesNormalization normalization, int window, int horizon, int hidden, int layers, int seed, LstmModelOptions? options = null)
    {
        string[] inputs = shape switch
        {
            ColumnShape.TargetIsTheInput => ["y"],
            ColumnShape.TargetAmongInputs => ["a", "y"],
            _ => ["a", "b"],
        };
        var settings = new ForecastSettings { TimeColumn = "t", InputColumns = inputs, TargetColumn = "y", Window = window, Horizon = horizon, Normalization = normalization };
        var random = new Random(seed);
        double[] offsets = [.. Enumerable.Range(0, inputs.Length + 1).Select(_ => 40 + random.NextDouble() * 20)];
        double[] scales = [.. Enumerable.Range(0, inputs.Length + 1).Select(_ => 0.5 + random.NextDouble() * 10)];
        var spec = new LstmSpec(inputs.Length, hidden, layers);
        var head = new LinearHead(spec.OutputSize, horizon, LstmCase.Uniform(spec.OutputSize * horizon, seed + 1, 0.5), LstmCase.Uniform(horizon, seed + 2, 0.5));
        return new LstmForecaster(settings, new SeriesScaler(normalization, offsets, scales), LstmWeights.CreateRandom(spec, seed), head, options);
    }

    private static void AssertBitwise(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {expected.Length} values expected, {actual.Length} given");
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
                Assert.Fail($"{what}: value {i} is {actual[i]:R}, expected {expected[i]:R}");
    }
}
