using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Reference;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>The fast path against the double reference, over generated shapes that straddle every vector width.</summary>
public class FastMatchesReferenceTests
{
    private static readonly int[] Sizes = [1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 127, 129, 257];

    public static TheoryData<KernelPath> Paths() => [.. LstmSimd.Kernels.KernelSelector.All];

    /// <summary>Random cases, with T and B scaled down as sizes grow so that the naive reference stays quick.</summary>
    internal static Gen<LstmCase> Cases(bool software) =>
        from input in Gen.Elements(Sizes)
        from hidden in Gen.Elements(Sizes)
        from layers in Gen.Choose(1, 3)
        from bidirectional in Gen.Elements(false, true)
        from bias in Gen.Elements(true, true, false)
        from projectionDraw in Gen.Choose(0, 3)
        from batchDraw in Gen.Choose(1, 9)
        from stepsDraw in Gen.Choose(0, 40)
        from initial in Gen.Elements(false, true)
        from withLengths in Gen.Elements(false, true)
        from batchFirst in Gen.Elements(false, true)
        from seed in Gen.Choose(0, 1_000_000)
        let projection = projectionDraw == 0 && hidden > 1 ? 1 + seed % (hidden - 1) : 0
        let work = (double)4 * hidden * (input + hidden) * layers * (bidirectional ? 2 : 1) * (software ? 8 : 1)
        let budget = Math.Max(1, (int)(4e6 / work))
        let batch = Math.Max(1, Math.Min(batchDraw, budget))
        let steps = Math.Min(stepsDraw, Math.Max(1, budget / batch))
        select new LstmCase(new LstmSpec(input, hidden, layers, bidirectional, projection, bias), steps, batch, initial, withLengths,
            batchFirst ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor, seed);

    [Theory]
    [MemberData(nameof(Paths))]
    public void Forward_matches_the_reference_on_random_shapes(KernelPath path)
    {
        bool software = !LstmSimd.Kernels.KernelSelector.IsAccelerated(path);
        Prop.ForAll(Cases(software).ToArbitrary(), testCase =>
        {
            Tolerance.AssertMatches(testCase.RunReference(), testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path })), testCase.ToString());
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 40 : 100));
    }

    /// <summary>
    /// One sequence on one thread runs its whole step loop inside the kernel (CellKernels.Sequence): odd and even T (the last h
    /// ends in either buffer), both directions, both layouts, h0/c0 and h_n/c_n, stacked layers, H off the vector width.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void Single_sequences_match_the_reference(KernelPath path)
    {
        bool software = !LstmSimd.Kernels.KernelSelector.IsAccelerated(path);
        Gen<LstmCase> single = Cases(software).Select(c => c with { Batch = 1, WithLengths = false, Spec = c.Spec with { ProjectionSize = 0 } });
        Prop.ForAll(single.ToArbitrary(), testCase =>
        {
            Tolerance.AssertMatches(testCase.RunReference(), testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path })), testCase.ToString());
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 30 : 60));
    }

    /// <summary>
    /// The input projection takes rows in chunks of 512 KiB of x (126 or 128 rows at I = 1024, by tile height): 43 steps × 7
    /// rows = 301 rows are three chunks of whole tiles and a tail row.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void An_input_projection_longer_than_one_chunk_matches_the_reference(KernelPath path)
    {
        var testCase = new LstmCase(new LstmSpec(1024, 16), Steps: 43, Batch: 7, WithInitialState: false, WithLengths: false, SequenceLayout.TimeMajor, Seed: 3);
        Tolerance.AssertMatches(testCase.RunReference(), testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path })), testCase.ToString());
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_width_boundary_size_matches_the_reference(KernelPath path)
    {
        foreach (int size in Sizes)
        {
            var testCase = new LstmCase(new LstmSpec(size, size), Steps: 3, Batch: 4, WithInitialState: true, WithLengths: false, SequenceLayout.TimeMajor, Seed: size);
            ReferenceResult expected = testCase.RunReference();
            (float[] output, _, float[] c) = testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path }));
            Tolerance.AssertClose(expected.Output, output, $"output H={size}");
            Tolerance.AssertClose(expected.CellState, c, $"c_n H={size}");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Streaming_steps_match_the_reference_over_a_whole_sequence(KernelPath path)
    {
        Prop.ForAll(Cases(software: true).Where(c => !c.Spec.Bidirectional).ToArbitrary(), testCase =>
        {
            testCase = testCase with { WithLengths = false, Layout = SequenceLayout.TimeMajor, WithInitialState = false };
            Tolerance.AssertMatches(testCase.RunReference(), testCase.RunStreaming(LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path })), "streaming " + testCase);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(30));
    }
}
