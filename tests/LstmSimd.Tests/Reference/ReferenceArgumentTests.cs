using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Reference;
using Xunit;

namespace LstmSimd.Tests.Reference;

/// <summary>
/// The reference checks its arguments with code of its own; over calls with every size right, missing or off by one,
/// it and the fast path must refuse exactly the same ones, each with an argument exception.
/// </summary>
public class ReferenceArgumentTests
{
    private sealed record Call(LstmSpec Spec, int Steps, int Batch, int InputDelta, int H0Mode, int C0Mode, int LengthsMode);

    private static readonly Gen<Call> Calls =
        from input in Gen.Choose(1, 6)
        from hidden in Gen.Choose(1, 6)
        from layers in Gen.Choose(1, 2)
        from bidirectional in Gen.Elements(false, true)
        from projection in Gen.Elements(0, 0, 1)
        from steps in Gen.Choose(-1, 4)
        from batch in Gen.Choose(0, 3)
        from inputDelta in Gen.Elements(0, 0, 0, -1, 1)
        from h0 in Gen.Choose(0, 3)
        from c0 in Gen.Choose(0, 3)
        from lengths in Gen.Choose(0, 4)
        select new Call(new LstmSpec(input, hidden, layers, bidirectional, hidden > 1 ? projection : 0), steps, batch, inputDelta, h0, c0, lengths);

    [Fact]
    public void The_reference_and_the_fast_path_refuse_the_same_calls()
    {
        Prop.ForAll(Calls.ToArbitrary(), call =>
        {
            LstmSpec spec = call.Spec;
            int steps = Math.Max(call.Steps, 0), batch = Math.Max(call.Batch, 1), slots = spec.NumLayers * spec.Directions;
            float[] input = new float[Math.Max(0, steps * batch * spec.InputSize + call.InputDelta)];
            float[] h0 = State(call.H0Mode, slots * batch * spec.OutputHiddenSize), c0 = State(call.C0Mode, slots * batch * spec.HiddenSize);
            int[] lengths = call.LengthsMode switch
            {
                0 => [],
                1 => [.. Enumerable.Repeat(steps, batch)],
                2 => [.. Enumerable.Repeat(steps + 1, batch)],
                3 => [.. Enumerable.Repeat(-1, batch)],
                _ => [.. Enumerable.Repeat(steps, batch + 1)],
            };
            LstmWeights weights = LstmWeights.CreateRandom(spec, seed: 1);

            Exception? reference = Record.Exception(() => ReferenceLstm.Forward(weights, input, call.Steps, call.Batch, h0, c0, lengths));
            Exception? fast = Record.Exception(() =>
            {
                using LstmSession session = LstmModel.Create(weights).CreateSession(maxBatch: 4, maxSteps: 5);
                session.Forward(input, call.Steps, call.Batch, new float[steps * batch * spec.OutputSize], h0: h0, c0: c0, lengths: lengths);
            });

            Assert.True((reference is null) == (fast is null), $"{call}: reference {reference?.Message ?? "ran"}; fast path {fast?.Message ?? "ran"}");
            if (reference is not null) Assert.IsAssignableFrom<ArgumentException>(reference);
            if (fast is not null) Assert.IsAssignableFrom<ArgumentException>(fast);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    /// <summary>0 empty, 1 right, 2 one short, 3 one long.</summary>
    private static float[] State(int mode, int length) => new float[mode switch { 0 => 0, 1 => length, 2 => length - 1, _ => length + 1 }];
}
