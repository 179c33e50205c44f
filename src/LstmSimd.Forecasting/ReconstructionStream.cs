namespace LstmSimd.Forecasting;

/// <summary>
/// One live series scored by an <see cref="LstmAutoencoder"/> as its rows arrive: <see cref="Step"/> appends a row and,
/// once <see cref="ForecastSettings.Window"/> rows are held, returns the reconstruction of the new row's target from the
/// window ending at it — what <see cref="LstmAutoencoder.Expected"/> gives for that row of the whole series. Warm calls
/// allocate nothing. One caller at a time (it uses the autoencoder's buffers).
/// </summary>
public sealed class ReconstructionStream
{
    private readonly LstmAutoencoder _autoencoder;
    private readonly double[] _rows; // the latest rows, oldest first: [window, columns]
    private readonly int _window, _columns;

    /// <summary>A stream over <paramref name="autoencoder"/> (shared, not copied), holding no rows yet.</summary>
    public ReconstructionStream(LstmAutoencoder autoencoder)
    {
        ArgumentNullException.ThrowIfNull(autoencoder);
        _autoencoder = autoencoder;
        _window = autoencoder.Settings.Window;
        _columns = autoencoder.Settings.InputColumns.Count;
        _rows = new double[Sizes.Elements("window × columns", _window, _columns)];
    }

    /// <summary>The values of one row, in order.</summary>
    public IReadOnlyList<string> Columns => _autoencoder.Settings.InputColumns;

    /// <summary>Rows held: from 0 up to the window.</summary>
    public int Held { get; private set; }

    /// <summary>
    /// Appends <paramref name="row"/> (one value per column of <see cref="Columns"/>) and returns the reconstruction of its
    /// target; NaN while fewer than a window of rows are held.
    /// </summary>
    /// <exception cref="ArgumentException">The row has the wrong length or holds a value that is not finite; nothing is appended.</exception>
    public double Step(ReadOnlySpan<double> row)
    {
        if (row.Length != _columns) throw new ArgumentException($"A row holds {_columns} values ({string.Join(", ", Columns)}); got {row.Length}.", nameof(row));
        foreach (double v in row)
            if (!double.IsFinite(v)) throw new ArgumentException($"A row's values must be finite; got {v}.", nameof(row));
        if (Held == _window) Array.Copy(_rows, _columns, _rows, 0, _rows.Length - _columns);
        else Held++;
        row.CopyTo(_rows.AsSpan((Held - 1) * _columns, _columns));
        return Held < _window ? double.NaN : _autoencoder.ReconstructNewest(_rows);
    }

    /// <summary>Forgets the rows held.</summary>
    public void Reset() => Held = 0;
}
