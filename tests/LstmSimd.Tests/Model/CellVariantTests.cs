using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>
/// ONNX's cell variants on the fast path (the shared product kernels, then the variant's own vectorised epilogue) against
/// the reference, on every kernel path: random peepholes, clip, input_forget and activations, over random shapes.
/// </summary>
public class CellVariantTests
{
    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    private static readonly Gen<Activation> Activations =
        Gen.OneOf(
            Gen.Constant(Activation.Sigmoid),
            Gen.Constant(Activation.Tanh),
            Gen.Constant(new Activation(ActivationKind.Relu)),
            from alpha in Gen.Elements(0.1f, 0.2f, 1f / 3f)
            from beta in Gen.Elements(0.3f, 0.5f, 0.7f)
            select new Activation(ActivationKind.HardSigmoid, alpha, beta));

    /// <summary>
    /// Random variants (never the standard cell) on the fast-path cases of FastMatchesReferenceTests. Gates keep an
    /// activation with values in [0, 1] (sigmoid or hard sigmoid, as gates are meant to): a tanh or relu "gate" lets f
    /// exceed 1, and then c grows step by step and amplifies float rounding past any fixed bound, on any engine.
    /// </summary>
    private static Gen<LstmCase> VariantCases(bool software) =>
        from testCase in FastMatchesReferenceTests.Cases(software)
        from peepholes in Gen.Elements(false, true)
        from clip in Gen.Elements(0f, 0.5f, 3f)
        from inputForget in Gen.Elements(false, true)
        from gate in Activations.Where(a => a.Kind is ActivationKind.Sigmoid or ActivationKind.HardSigmoid)
        from candidate in Activations
        from output in Activations
        let cell = new CellVariant(peepholes && testCase.Spec.ProjectionSize == 0, clip, inputForget, gate, candidate, output) // ONNX has no projection
        let variant = cell.IsStandard ? cell with { Clip = 1f } : cell
        select testCase with { Spec = testCase.Spec with { Cell = variant } };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Forward_with_any_cell_variant_matches_the_reference(KernelPath path)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(VariantCases(software).ToArbitrary(), testCase =>
        {
            Tolerance.AssertMatches(testCase.RunReference(), testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path })),
                $"{testCase} cell={testCase.Spec.Cell}");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 15 : 40));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Streaming_steps_with_a_cell_variant_match_the_reference(KernelPath path)
    {
        Prop.ForAll(VariantCases(software: true).Where(c => !c.Spec.Bidirectional).ToArbitrary(), testCase =>
        {
            testCase = testCase with { WithLengths = false, Layout = SequenceLayout.TimeMajor, WithInitialState = false };
            Tolerance.AssertMatches(testCase.RunReference(), testCase.RunStreaming(LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path })),
                $"streaming {testCase} cell={testCase.Spec.Cell}");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(15));
    }

    [Fact]
    public void A_variant_cell_on_two_threads_gives_the_one_thread_answer_bitwise_and_allocates_nothing()
    {
        var spec = new LstmSpec(9, 70, 2, bidirectional: true) { Cell = new CellVariant(true, 2f, true, Activation.Sigmoid, new Activation(ActivationKind.HardSigmoid, 0.2f, 0.5f), Activation.Tanh) };
        var testCase = new LstmCase(spec, Steps: 7, Batch: 5, WithInitialState: true, WithLengths: true, SequenceLayout.TimeMajor, Seed: 12);
        float[] one = testCase.RunFast(LstmModel.Create(testCase.Weights)).Output;
        float[] two = testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Threads = 2 })).Output;
        Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), two.Select(BitConverter.SingleToInt32Bits));

        using LstmSession session = LstmModel.Create(testCase.Weights, new LstmModelOptions { Threads = 2 }).CreateSession(testCase.Batch, testCase.Steps);
        float[] output = new float[testCase.OutputLength];
        void Run() => session.Forward(testCase.Input, testCase.Steps, testCase.Batch, output, lengths: testCase.Lengths);
        Run();
        Assert.Equal(0, Allocations.LeastOver(Run, 5));
    }
}
