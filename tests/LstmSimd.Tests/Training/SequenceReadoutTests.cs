using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Training;

public sealed class SequenceReadoutTests
{
    // Output [T=3, B=2, F=1], value = 10·t + b.
    private static readonly float[] TimeMajor = [0f, 1f, 10f, 11f, 20f, 21f];

    [Fact]
    public void Every_step_readout_takes_the_steps_inside_each_length_in_time_major_order()
    {
        float[] rows = new float[4];
        int count = SequenceReadout.Gather(Readout.EveryStep, TimeMajor, 3, 2, 1, [3, 1], SequenceLayout.TimeMajor, rows);
        Assert.Equal(4, count);
        Assert.Equal([0f, 1f, 10f, 20f], rows);
    }

    [Fact]
    public void Every_step_readout_of_a_batch_first_output_goes_sequence_by_sequence()
    {
        // [B=2, T=3, F=1], value = 10·t + b.
        float[] batchFirst = [0f, 10f, 20f, 1f, 11f, 21f], rows = new float[5];
        SequenceReadout.Gather(Readout.EveryStep, batchFirst, 3, 2, 1, [3, 2], SequenceLayout.BatchFirst, rows);
        Assert.Equal([0f, 10f, 20f, 1f, 11f], rows);
    }

    [Fact]
    public void Last_step_readout_takes_each_sequence_at_its_own_last_step()
    {
        float[] rows = new float[2];
        SequenceReadout.Gather(Readout.LastStep, TimeMajor, 3, 2, 1, [2, 3], SequenceLayout.TimeMajor, rows);
        Assert.Equal([10f, 21f], rows);
        SequenceReadout.Gather(Readout.LastStep, TimeMajor, 3, 2, 1, default, SequenceLayout.TimeMajor, rows);
        Assert.Equal([20f, 21f], rows);
    }

    [Fact]
    public void Scatter_is_the_adjoint_of_gather_so_the_loss_gradient_lands_where_the_rows_came_from()
    {
        Gen<(int Steps, int Batch, int Features, int Seed, bool Last, bool BatchFirst, bool HasLengths)> gen =
            from steps in Gen.Choose(1, 6)
            from batch in Gen.Choose(1, 4)
            from features in Gen.Choose(1, 3)
            from seed in Gen.Choose(0, 1000)
            from last in Gen.Elements(true, false)
            from batchFirst in Gen.Elements(true, false)
            from hasLengths in Gen.Elements(true, false)
            select (steps, batch, features, seed, last, batchFirst, hasLengths);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var random = new Random(c.Seed);
            Readout readout = c.Last ? Readout.LastStep : Readout.EveryStep;
            SequenceLayout layout = c.BatchFirst ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor;
            int[] lengths = c.HasLengths ? Enumerable.Range(0, c.Batch).Select(_ => random.Next(c.Last ? 1 : 0, c.Steps + 1)).ToArray() : [];
            int rowCount = SequenceReadout.RowCount(readout, c.Steps, c.Batch, lengths);
            float[] x = Enumerable.Range(0, c.Steps * c.Batch * c.Features).Select(_ => (float)random.Next(-5, 6)).ToArray();
            float[] r = Enumerable.Range(0, rowCount * c.Features).Select(_ => (float)random.Next(-5, 6)).ToArray();
            float[] gathered = new float[r.Length], scattered = Enumerable.Repeat(9f, x.Length).ToArray();
            SequenceReadout.Gather(readout, x, c.Steps, c.Batch, c.Features, lengths, layout, gathered);
            SequenceReadout.Scatter(readout, r, c.Steps, c.Batch, c.Features, lengths, layout, scattered);
            double left = gathered.Zip(r, (a, b) => (double)a * b).Sum(), right = x.Zip(scattered, (a, b) => (double)a * b).Sum();
            return left == right;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Last_step_readout_rejects_an_empty_sequence()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            SequenceReadout.Gather(Readout.LastStep, TimeMajor, 3, 2, 1, [0, 3], SequenceLayout.TimeMajor, new float[2]));
    }
}
