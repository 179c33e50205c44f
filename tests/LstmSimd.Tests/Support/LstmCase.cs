using LstmSimd.Reference;

namespace LstmSimd.Tests.Support;

/// <summary>A random LSTM problem: a spec, its weights and inputs, drawn from a seed so any failure replays.</summary>
public sealed record LstmCase(LstmSpec Spec, int Steps, int Batch, bool WithInitialState, bool WithLengths, SequenceLayout Layout, int Seed)
{
    private LstmWeights? _weights;
    private float[]? _input, _h0, _c0;
    private int[]? _lengths;

    public LstmWeights Weights => _weights ??= LstmWeights.CreateRandom(Spec, Seed);

    public float[] Input => _input ??= Uniform(Steps * Batch * Spec.InputSize, Seed + 1, 1.0);

    public float[] H0 => _h0 ??= WithInitialState ? Uniform(Spec.NumLayers * Spec.Directions * Batch * Spec.OutputHiddenSize, Seed + 2, 0.5) : [];

    public float[] C0 => _c0 ??= WithInitialState ? Uniform(Spec.NumLayers * Spec.Directions * Batch * Spec.HiddenSize, Seed + 3, 1.0) : [];

    public int[] Lengths => _lengths ??= WithLengths ? DrawLengths() : [];

    public int OutputLength => Steps * Batch * Spec.OutputSize;

    public int HLength => Spec.NumLayers * Spec.Directions * Batch * Spec.OutputHiddenSize;

    public int CLength => Spec.NumLayers * Spec.Directions * Batch * Spec.HiddenSize;

    public ReferenceResult RunReference() => ReferenceLstm.Forward(Weights, Input, Steps, Batch, H0, C0, Lengths, Layout);

    public (float[] Output, float[] H, float[] C) RunFast(LstmModel model, Action<LstmSession>? configure = null)
    {
        float[] output = new float[OutputLength], h = new float[HLength], c = new float[CLength];
        using LstmSession session = model.CreateSession(Batch, Math.Max(1, Steps));
        configure?.Invoke(session);
        session.Forward(Input, Steps, Batch, output, h, c, H0, C0, Lengths, Layout);
        return (output, h, c);
    }

    /// <summary>
    /// Runs <paramref name="model"/> one <see cref="LstmSession.Step"/> at a time over the input (time-major, from the zero
    /// state; the case must be unidirectional): every step's output [T, B, H_out], and the final state h [L, B, H_out], c [L, B, H].
    /// </summary>
    public (float[] Output, float[] H, float[] C) RunStreaming(LstmModel model, Action<LstmSession>? configure = null)
    {
        using LstmSession session = model.CreateSession(Batch);
        configure?.Invoke(session);
        int stepInput = Batch * Spec.InputSize, stepOutput = Batch * Spec.OutputHiddenSize;
        float[] output = new float[Steps * stepOutput], h = new float[HLength], c = new float[CLength];
        for (int t = 0; t < Steps; t++)
            session.Step(Input.AsSpan(t * stepInput, stepInput), Batch, output.AsSpan(t * stepOutput, stepOutput));
        session.GetState(h, c, Batch);
        return (output, h, c);
    }

    public override string ToString() =>
        $"I={Spec.InputSize} H={Spec.HiddenSize} P={Spec.ProjectionSize} L={Spec.NumLayers} bidir={Spec.Bidirectional} bias={Spec.Bias} T={Steps} B={Batch} h0c0={WithInitialState} lengths=[{string.Join(',', Lengths)}] layout={Layout} seed={Seed}";

    public static float[] Uniform(int length, int seed, double scale)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return values;
    }

    private int[] DrawLengths()
    {
        var random = new Random(Seed + 4);
        var lengths = new int[Batch];
        for (int b = 0; b < Batch; b++) lengths[b] = random.Next(0, Steps + 1);
        if (Batch > 0) lengths[random.Next(Batch)] = Steps; // one full-length sequence, as PyTorch's packing has
        return lengths;
    }
}
