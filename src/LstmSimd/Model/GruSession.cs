namespace LstmSimd;

/// <summary>
/// Runs a <see cref="GruModel"/>: owns the streaming state (h of every layer) and every scratch buffer, all sized at
/// creation, so that <see cref="Forward"/> and <see cref="Step"/> allocate nothing. One caller at a time, as
/// <see cref="LstmSession"/> (whose machinery it runs): create one session per thread; they can share the model.
/// </summary>
public sealed class GruSession : IDisposable
{
    private readonly LstmSession _session;
    private readonly float[] _cells; // the LSTM machinery's c, which a GRU never reads: zeros in, ignored out

    internal GruSession(GruModel model, int maxBatch, int maxSteps)
    {
        Model = model;
        _session = model.Core.CreateSession(maxBatch, maxSteps);
        _cells = new float[Sizes.Elements("state layers × maxBatch × H", model.Spec.NumLayers, maxBatch, model.Spec.HiddenSize)];
    }

    /// <summary>The model this session runs.</summary>
    public GruModel Model { get; }

    /// <summary>The largest batch a call may pass.</summary>
    public int MaxBatch => _session.MaxBatch;

    /// <summary>The longest sequence <see cref="Forward"/> may pass.</summary>
    public int MaxSteps => _session.MaxSteps;

    /// <summary>
    /// Runs the whole model over a batch of sequences, as PyTorch's <c>nn.GRU</c> forward does. The streaming state of
    /// <see cref="Step"/> is neither read nor changed.
    /// </summary>
    /// <param name="input">[T, B, I] time-major, or [B, T, I] with <see cref="SequenceLayout.BatchFirst"/>.</param>
    /// <param name="steps">T, at most <see cref="MaxSteps"/>.</param>
    /// <param name="batch">B, at most <see cref="MaxBatch"/>.</param>
    /// <param name="output">[T, B, D·H] (or [B, T, D·H]); zero past each sequence's length.</param>
    /// <param name="hN">Receives h_n [L·D, B, H] unless empty.</param>
    /// <param name="h0">Initial h [L·D, B, H]; empty for zeros.</param>
    /// <param name="lengths">[B] lengths in [0, T] with packed-sequence meaning; empty when every sequence has T steps.</param>
    /// <param name="layout">The layout of <paramref name="input"/> and <paramref name="output"/>.</param>
    /// <exception cref="ArgumentException">A span's length does not match the shapes, or a size is out of range; nothing is written.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An element of <paramref name="input"/> or <paramref name="h0"/> could overflow the fp32 sums (it is named); nothing is written.</exception>
    /// <exception cref="InvalidOperationException">Another call of this session is running.</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public void Forward(ReadOnlySpan<float> input, int steps, int batch, Span<float> output, Span<float> hN = default,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<int> lengths = default, SequenceLayout layout = SequenceLayout.TimeMajor)
    {
        _session.Forward(input, steps, batch, output, hN, default, h0, default, lengths, layout);
    }

    /// <summary>Advances the streaming state by one time step for <paramref name="batch"/> sequences and writes the top layer's h.</summary>
    /// <param name="input">x_t: [B, I].</param>
    /// <param name="batch">B, at most <see cref="MaxBatch"/>; rows past it keep their state.</param>
    /// <param name="output">Receives h_t of the top layer: [B, H].</param>
    /// <exception cref="InvalidOperationException">The model is bidirectional, or another call of this session is running.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An element of <paramref name="input"/> could overflow the fp32 sums (it is named); nothing changes.</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public void Step(ReadOnlySpan<float> input, int batch, Span<float> output) => _session.Step(input, batch, output);

    /// <summary>Sets the streaming state of every row to zero.</summary>
    public void ResetState() => _session.ResetState();

    /// <summary>Sets the streaming state of rows [0, <paramref name="batch"/>) from h [L, B, H].</summary>
    /// <exception cref="ArgumentOutOfRangeException">An element of <paramref name="h"/> could overflow the fp32 sums of the next steps (it is named); nothing changes.</exception>
    public void SetState(ReadOnlySpan<float> h, int batch)
    {
        ShapeChecks.Positive(batch, nameof(batch));
        ShapeChecks.Capacity(1, batch, MaxSteps, MaxBatch);
        _session.SetState(h, _cells.AsSpan(0, Model.Spec.NumLayers * batch * Model.Spec.HiddenSize), batch);
    }

    /// <summary>Copies the streaming state of rows [0, <paramref name="batch"/>) into h [L, B, H].</summary>
    public void GetState(Span<float> h, int batch)
    {
        ShapeChecks.Positive(batch, nameof(batch));
        ShapeChecks.Capacity(1, batch, MaxSteps, MaxBatch);
        _session.GetState(h, _cells.AsSpan(0, Model.Spec.NumLayers * batch * Model.Spec.HiddenSize), batch);
    }

    /// <summary>Stops the session's worker threads, if it has any; every later call throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose() => _session.Dispose();
}
