using System.Text.Json;

namespace LstmSimd.Forecasting;

/// <summary>
/// What a forecaster reads besides the series' past: known-future covariates (<see cref="ForecastSettings.Covariates"/>,
/// each standardised by its mean and standard deviation on the training rows) and calendar inputs
/// (<see cref="ForecastSettings.Calendar"/>). With any of them the LSTM runs over the window and then the horizon's
/// steps: at a window step it reads the scaled series, the step's covariates and calendar inputs and a 0; at a horizon
/// step zeros in place of the series (not yet known), the step's covariates and calendar inputs and a 1 (the flag that
/// tells the two apart); the head reads its output after the horizon's last step. Without them the LSTM reads the
/// window alone.
/// </summary>
public sealed class KnownFutureInputs
{
    /// <summary>Creates the inputs from stored scaling (one mean and one standard deviation per covariate).</summary>
    /// <exception cref="ArgumentException">Another count of offsets or scales than covariates, or a scale that is not positive and finite.</exception>
    public KnownFutureInputs(IReadOnlyList<string> covariates, CalendarFeatures calendar, IReadOnlyList<double> offsets, IReadOnlyList<double> scales)
    {
        ArgumentNullException.ThrowIfNull(covariates);
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(scales);
        if (offsets.Count != covariates.Count || scales.Count != covariates.Count)
            throw new ArgumentException($"One offset and one scale per covariate are needed: {covariates.Count} covariates, {offsets.Count} offsets, {scales.Count} scales.");
        if (scales.Any(s => !(s > 0) || !double.IsFinite(s)) || offsets.Any(o => !double.IsFinite(o)))
            throw new ArgumentException("Every covariate's offset must be finite and its scale positive and finite.");
        Covariates = [.. covariates];
        Calendar = calendar;
        Offsets = [.. offsets];
        Scales = [.. scales];
        CalendarWidth = CalendarEncoding.Width(calendar);
        Width = covariates.Count + CalendarWidth == 0 ? 0 : covariates.Count + CalendarWidth + 1;
    }

    /// <summary>No covariates and no calendar inputs: the LSTM reads the window alone.</summary>
    public static KnownFutureInputs None { get; } = new([], CalendarFeatures.None, [], []);

    /// <summary>The covariates' columns.</summary>
    public IReadOnlyList<string> Covariates { get; }

    /// <summary>The calendar inputs.</summary>
    public CalendarFeatures Calendar { get; }

    /// <summary>Each covariate's training mean.</summary>
    public IReadOnlyList<double> Offsets { get; }

    /// <summary>Each covariate's training standard deviation (1 for a constant one).</summary>
    public IReadOnlyList<double> Scales { get; }

    /// <summary>Inputs per step besides the series': the covariates, the calendar inputs and the horizon flag; 0 when there are none.</summary>
    public int Width { get; }

    private int CalendarWidth { get; }

    /// <summary>The steps the LSTM runs over: the window, and the horizon too when there are known-future inputs.</summary>
    public int Steps(ForecastSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Window + (Width == 0 ? 0 : settings.Horizon);
    }

    /// <summary>
    /// Standardises each of the settings' covariates by its mean and standard deviation over the rows before each
    /// series' <see cref="ForecastSplit.ValidationStart"/>, pooled over <paramref name="series"/> (one series, or the
    /// many a global model reads).
    /// </summary>
    public static KnownFutureInputs Fit(IReadOnlyList<ForecastSeries> series, ForecastSettings settings)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(settings);
        int count = settings.Covariates.Count;
        double[] offsets = new double[count], scales = new double[count];
        for (int c = 0; c < count; c++)
        {
            double sum = 0, squares = 0;
            long n = 0;
            foreach (ForecastSeries s in series)
            {
                CheckShape(s, settings);
                foreach (double v in s.Covariates[c].AsSpan(0, s.Split.ValidationStart))
                {
                    sum += v;
                    squares += v * v;
                    n++;
                }
            }

            offsets[c] = n == 0 ? 0 : sum / n;
            double sd = n == 0 ? 0 : Math.Sqrt(Math.Max(squares / n - offsets[c] * offsets[c], 0));
            scales[c] = sd > 1e-12 * Math.Max(1, Math.Abs(offsets[c])) ? sd : 1; // a constant column: centred, not divided by zero
        }

        return new KnownFutureInputs(settings.Covariates, settings.Calendar, offsets, scales);
    }

    /// <summary>Refuses a series read with other covariates or calendar inputs than these.</summary>
    internal void Check(ForecastSeries series)
    {
        if (series.Covariates.Count != Covariates.Count || series.CalendarWidth != CalendarWidth)
            throw new ArgumentException($"The series holds {series.Covariates.Count} covariates and {series.CalendarWidth} calendar inputs; the forecaster reads {Covariates.Count} ({string.Join(", ", Covariates.Select(c => UserText.Quote(c)))}) and {CalendarWidth}. Read it with the forecaster's settings.");
    }

    private static void CheckShape(ForecastSeries series, ForecastSettings settings)
    {
        if (series.Covariates.Count != settings.Covariates.Count || series.CalendarWidth != CalendarEncoding.Width(settings.Calendar))
            throw new ArgumentException("The series was read with other covariates or calendar inputs than the settings name.");
    }

    /// <summary>
    /// Writes the LSTM's input for the window ending at <paramref name="origin"/>: [<see cref="Steps"/>, pastFeatures +
    /// <see cref="Width"/>], the series' scaled window <paramref name="past"/> ([window, pastFeatures]) first on each step.
    /// </summary>
    /// <exception cref="ArgumentException">A covariate has no values for the horizon's steps (the forecast runs past the data's end).</exception>
    internal void Fill(ForecastSeries series, int origin, int window, int horizon, ReadOnlySpan<float> past, int pastFeatures, Span<float> destination)
    {
        int features = pastFeatures + Width, steps = window + horizon;
        if (Covariates.Count > 0 && origin + horizon >= series.Covariates[0].Length)
            throw new ArgumentException(
                $"The forecast from {series.Times[origin]} needs the known-future covariates {string.Join(", ", Covariates.Select(c => UserText.Quote(c)))} for the {horizon} steps after it; the data ends {series.Covariates[0].Length - 1 - origin} step(s) after it, so the last origin a forecast can start from is {series.Times[series.Covariates[0].Length - 1 - horizon]}.");
        for (int k = 0; k < steps; k++)
        {
            int row = origin - window + 1 + k;
            Span<float> step = destination.Slice(k * features, features);
            if (k < window) past.Slice(k * pastFeatures, pastFeatures).CopyTo(step);
            else step[..pastFeatures].Clear();
            for (int c = 0; c < Covariates.Count; c++) step[pastFeatures + c] = (float)((series.Covariates[c][row] - Offsets[c]) / Scales[c]);
            series.CalendarRows.AsSpan(row * CalendarWidth, CalendarWidth).CopyTo(step.Slice(pastFeatures + Covariates.Count, CalendarWidth));
            step[^1] = k < window ? 0 : 1;
        }
    }

    /// <summary>Writes the inputs into an open JSON object as "known_future" (nothing when there are none).</summary>
    internal void Write(Utf8JsonWriter w)
    {
        if (Width == 0) return;
        w.WriteStartObject("known_future");
        w.WriteString("calendar", Calendar.ToString());
        w.WriteStartArray("covariates");
        foreach (string c in Covariates) w.WriteStringValue(c);
        w.WriteEndArray();
        w.WriteStartArray("offsets");
        foreach (double v in Offsets) w.WriteNumberValue(v);
        w.WriteEndArray();
        w.WriteStartArray("scales");
        foreach (double v in Scales) w.WriteNumberValue(v);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The inputs <see cref="Write"/> wrote (<see cref="None"/> when there is no entry), checked against the settings.</summary>
    internal static KnownFutureInputs Read(JsonElement root, ForecastSettings settings)
    {
        if (!root.TryGetProperty("known_future", out JsonElement entry))
        {
            if (settings.Covariates.Count > 0 || settings.Calendar != CalendarFeatures.None) throw new FormatException("the settings name covariates or calendar inputs, and \"known_future\" is missing");
            return None;
        }

        var inputs = new KnownFutureInputs(
            [.. LstmForecaster.Property(entry, "covariates").EnumerateArray().Select(e => e.GetString()!)],
            CalendarEncoding.Parse(LstmForecaster.Property(entry, "calendar").GetString()!),
            [.. LstmForecaster.Property(entry, "offsets").EnumerateArray().Select(e => e.GetDouble())],
            [.. LstmForecaster.Property(entry, "scales").EnumerateArray().Select(e => e.GetDouble())]);
        if (!inputs.Covariates.SequenceEqual(settings.Covariates) || inputs.Calendar != settings.Calendar)
            throw new FormatException("\"known_future\" names other covariates or calendar inputs than the settings");
        return inputs;
    }
}
