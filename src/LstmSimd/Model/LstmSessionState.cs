namespace LstmSimd;

/// <summary>
/// Saves and restores a session's streaming state (every row's h and c of every layer, rows [0, MaxBatch)) with the
/// model's identity, so that a process can stop and continue its streams where they were. The format is a pool's
/// (see <see cref="LstmStreamPool{TKey}.SaveState(Stream)"/>) with rows in place of keys.
/// </summary>
public static class LstmSessionState
{
    /// <summary>Writes the session's state to <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidOperationException">Another call of this session is running.</exception>
    public static void SaveState(this LstmSession session, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(destination);
        LstmSpec spec = session.Model.Spec;
        int rows = session.MaxBatch, h = spec.OutputHiddenSize, c = spec.HiddenSize;
        float[] layerH = new float[spec.NumLayers * rows * h], layerC = new float[spec.NumLayers * rows * c];
        session.GetState(layerH, layerC, rows);
        float[] streamH = new float[layerH.Length], streamC = new float[layerC.Length];
        StreamStateFile.Transpose(layerH, streamH, spec.NumLayers, rows, h);
        StreamStateFile.Transpose(layerC, streamC, spec.NumLayers, rows, c);
        StreamStateFile.Write(destination, session.Model, SavedStreamKeys.Kind.Row, default, streamH, streamC, rows);
    }

    /// <summary>Saves the session's state to <paramref name="path"/> atomically: a crash leaves the previous file or the new one whole.</summary>
    /// <exception cref="IOException">The write failed; the previous file is left as it was.</exception>
    public static void SaveState(this LstmSession session, string path)
    {
        ArgumentNullException.ThrowIfNull(session);
        AtomicFile.Write(path, stream => session.SaveState(stream));
    }

    /// <summary>
    /// Sets the session's state to what <see cref="SaveState(LstmSession, Stream)"/> wrote: the saved rows, and zeros for
    /// the rows past them when this session's <see cref="LstmSession.MaxBatch"/> is larger. Steps then continue exactly
    /// as they would have in the saving session.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The data is not a saved state, is truncated or corrupted, was saved for another model or weight format, by a pool,
    /// or holds more rows than <see cref="LstmSession.MaxBatch"/>; the message says which, and the state is left as it was.
    /// </exception>
    /// <exception cref="InvalidOperationException">Another call of this session is running.</exception>
    public static void RestoreState(this LstmSession session, Stream source)
    {
        ArgumentNullException.ThrowIfNull(session);
        Apply(session, StreamStateFile.Read(source, session.Model, SavedStreamKeys.Kind.Row, session.MaxBatch));
    }

    /// <summary>Restores the state saved in a file (see <see cref="RestoreState(LstmSession, Stream)"/>).</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static void RestoreState(this LstmSession session, string path)
    {
        ArgumentNullException.ThrowIfNull(session);
        Apply(session, StreamStateFile.Read(path, session.Model, SavedStreamKeys.Kind.Row, session.MaxBatch));
    }

    private static void Apply(LstmSession session, StreamStateFile.Contents contents)
    {
        LstmSpec spec = session.Model.Spec;
        int rows = session.MaxBatch, h = spec.OutputHiddenSize, c = spec.HiddenSize;
        float[] streamH = new float[spec.NumLayers * rows * h], streamC = new float[spec.NumLayers * rows * c];
        contents.H.CopyTo(streamH, 0);
        contents.C.CopyTo(streamC, 0);
        float[] layerH = new float[streamH.Length], layerC = new float[streamC.Length];
        StreamStateFile.Transpose(streamH, layerH, rows, spec.NumLayers, h);
        StreamStateFile.Transpose(streamC, layerC, rows, spec.NumLayers, c);
        session.SetState(layerH, layerC, rows);
    }
}
