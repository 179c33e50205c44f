namespace LstmSimd;

// Saving and restoring a session's streaming state (every row's h and c of every layer, rows [0, MaxBatch)) with the
// model's identity, so that a process can stop and continue its streams where they were. The format is a pool's
// (see LstmStreamPool.SaveState) with rows in place of keys.
public sealed partial class LstmSession
{
    /// <summary>Writes the session's state (every row's h and c of every layer) with the model's identity to <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidOperationException">Another call of this session is running.</exception>
    public void SaveState(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        LstmSpec spec = Model.Spec;
        int rows = MaxBatch, h = spec.OutputHiddenSize, c = spec.HiddenSize;
        float[] layerH = new float[spec.NumLayers * rows * h], layerC = new float[spec.NumLayers * rows * c];
        GetState(layerH, layerC, rows);
        float[] streamH = new float[layerH.Length], streamC = new float[layerC.Length];
        StreamStateFile.Transpose(layerH, streamH, spec.NumLayers, rows, h);
        StreamStateFile.Transpose(layerC, streamC, spec.NumLayers, rows, c);
        StreamStateFile.Write(destination, Model, SavedStreamKeys.Kind.Row, default, streamH, streamC, rows);
    }

    /// <summary>Saves the session's state to <paramref name="path"/> atomically: a crash leaves the previous file or the new one whole.</summary>
    /// <exception cref="IOException">The write failed; the previous file is left as it was.</exception>
    public void SaveState(string path) => AtomicFile.Write(path, SaveState);

    /// <summary>
    /// Sets the session's state to what <see cref="SaveState(Stream)"/> wrote: the saved rows, and zeros for
    /// the rows past them when this session's <see cref="LstmSession.MaxBatch"/> is larger. Steps then continue exactly
    /// as they would have in the saving session.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The data is not a saved state, is truncated or corrupted, was saved for another model or weight format, by a pool,
    /// or holds more rows than <see cref="LstmSession.MaxBatch"/>; the message says which, and the state is left as it was.
    /// </exception>
    /// <exception cref="InvalidOperationException">Another call of this session is running.</exception>
    public void RestoreState(Stream source) => Apply(StreamStateFile.Read(source, Model, SavedStreamKeys.Kind.Row, MaxBatch));

    /// <summary>Restores the state saved in a file (see <see cref="RestoreState(Stream)"/>).</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public void RestoreState(string path) => Apply(StreamStateFile.Read(path, Model, SavedStreamKeys.Kind.Row, MaxBatch));

    private void Apply(StreamStateFile.Contents contents)
    {
        LstmSpec spec = Model.Spec;
        int rows = MaxBatch, h = spec.OutputHiddenSize, c = spec.HiddenSize;
        float[] streamH = new float[spec.NumLayers * rows * h], streamC = new float[spec.NumLayers * rows * c];
        contents.H.CopyTo(streamH, 0);
        contents.C.CopyTo(streamC, 0);
        float[] layerH = new float[streamH.Length], layerC = new float[streamC.Length];
        StreamStateFile.Transpose(streamH, layerH, rows, spec.NumLayers, h);
        StreamStateFile.Transpose(streamC, layerC, rows, spec.NumLayers, c);
        SetState(layerH, layerC, rows);
    }
}
