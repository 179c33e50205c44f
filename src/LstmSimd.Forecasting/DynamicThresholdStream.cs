namespace LstmSimd.Forecasting;

/// <summary>What <see cref="DynamicThresholdStream.Add"/> decided for one error.</summary>
/// <param name="Smoothed">The smoothed absolute error.</param>
/// <param name="Epsilon">The threshold chosen over the latest errors (+∞ when none stands out).</param>
/// <param name="IsAnomaly">Whether the error is anomalous after pruning.</param>
public readonly record struct ThresholdStep(double Smoothed, double Epsilon, bool IsAnomaly);

/// <summary>
/// <see cref="DynamicThreshold"/> one error at a time: each error is smoothed, joins the latest
/// <see cref="DynamicThresholdOptions.Window"/> smoothed errors, and the threshold is chosen and the runs pruned over those,
/// deciding the new error's flag (the window moves by one error; <see cref="DynamicThresholdOptions.Step"/> is not used).
/// From the window's fill on, the flags are those of <see cref="DynamicThreshold.Detect"/> with a step of 1; before, the
/// threshold is chosen from the errors seen so far. Allocation-free.
/// </summary>
public sealed class DynamicThresholdStream
{
    private readonly DynamicThresholdOptions _options;
    private readonly double[] _ring, _window;
    private readonly bool[] _flags;
    private readonly double _alpha;
    private double _smoothed;

    /// <summary>A stream with no errors yet.</summary>
    public DynamicThresholdStream(DynamicThresholdOptions? options = null)
    {
        _options = options ?? new DynamicThresholdOptions();
        _options.Validate();
        _ring = new double[_options.Window];
        _window = new double[_options.Window];
        _flags = new bool[_options.Window];
        _alpha = 2.0 / (_options.SmoothingSpan + 1);
    }

    /// <summary>The settings.</summary>
    public DynamicThresholdOptions Options => _options;

    /// <summary>Errors added since the start or the last <see cref="Reset"/>.</summary>
    public long Count { get; private set; }

    /// <summary>Adds one error (its absolute value is used) and decides whether it is anomalous.</summary>
    /// <exception cref="ArgumentException">The error is NaN or infinite; nothing changes.</exception>
    public ThresholdStep Add(double error)
    {
        double e = Math.Abs(error);
        if (!double.IsFinite(e)) throw new ArgumentException($"The error must be finite; got {error}.", nameof(error));
        _smoothed = Count == 0 ? e : _alpha * e + (1 - _alpha) * _smoothed;
        _ring[(int)(Count % _ring.Length)] = _smoothed;
        Count++;
        int held = (int)Math.Min(Count, _ring.Length);
        if (held < 2) return new ThresholdStep(_smoothed, double.PositiveInfinity, false);
        int oldest = (int)((Count - held) % _ring.Length);
        for (int i = 0; i < held; i++) _window[i] = _ring[(oldest + i) % _ring.Length];
        ReadOnlySpan<double> window = _window.AsSpan(0, held);
        ThresholdChoice choice = DynamicThreshold.Choose(window, _options);
        DynamicThreshold.FlagAndPrune(window, choice.Epsilon, _options.MinPercentDecrease, _flags.AsSpan(0, held));
        return new ThresholdStep(_smoothed, choice.Epsilon, _flags[held - 1]);
    }

    /// <summary>Forgets every error.</summary>
    public void Reset()
    {
        Count = 0;
        _smoothed = 0;
    }
}
