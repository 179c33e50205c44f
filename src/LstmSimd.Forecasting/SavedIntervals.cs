using System.Globalization;
using System.Text.Json;

namespace LstmSimd.Forecasting;

/// <summary>
/// <see cref="ForecastIntervals"/> in a checkpoint's metadata: <c>"intervals": {"level", "calibration_count", "lower",
/// "upper"}</c>, the bounds' offsets from the forecast per step ahead.
/// </summary>
internal static class SavedIntervals
{
    public static void Write(Utf8JsonWriter w, ForecastIntervals intervals)
    {
        w.WriteStartObject("intervals");
        w.WriteNumber("level", intervals.Level);
        w.WriteNumber("calibration_count", intervals.CalibrationCount);
        w.WriteStartArray("lower");
        foreach (double v in intervals.Lower) w.WriteNumberValue(v);
        w.WriteEndArray();
        w.WriteStartArray("upper");
        foreach (double v in intervals.Upper) w.WriteNumberValue(v);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Series <paramref name="index"/>'s intervals, checked.</summary>
    /// <exception cref="FormatException">A level outside 0 … 1, fewer calibration origins than it needs, another count of steps than the horizon, a bound that is not finite, or a lower bound above the upper.</exception>
    public static ForecastIntervals Read(JsonElement saved, int horizon, int index)
    {
        double level = LstmForecaster.Property(saved, "level").GetDouble();
        if (!(level is > 0 and < 1)) throw new FormatException($"series {index}'s intervals have a level of {level.ToString(CultureInfo.InvariantCulture)}; it must be between 0 and 1");
        int count = LstmForecaster.Property(saved, "calibration_count").GetInt32();
        int minimum = ForecastIntervals.MinimumCalibrationCount(level);
        if (count < minimum) throw new FormatException($"series {index}'s intervals were calibrated on {count} origins; {ForecastComparison.Percent(level)} intervals need at least {minimum}");
        double[] lower = [.. LstmForecaster.Property(saved, "lower").EnumerateArray().Select(e => e.GetDouble())];
        double[] upper = [.. LstmForecaster.Property(saved, "upper").EnumerateArray().Select(e => e.GetDouble())];
        if (lower.Length != horizon || upper.Length != horizon)
            throw new FormatException($"series {index}'s intervals have {lower.Length} lower and {upper.Length} upper bounds; the horizon is {horizon} steps");
        for (int h = 0; h < horizon; h++)
        {
            if (!double.IsFinite(lower[h]) || !double.IsFinite(upper[h]) || lower[h] > upper[h])
                throw new FormatException($"series {index}'s interval at step {h + 1} is [{lower[h].ToString(CultureInfo.InvariantCulture)}, {upper[h].ToString(CultureInfo.InvariantCulture)}] around the forecast; the bounds must be finite, the lower not above the upper");
        }

        return ForecastIntervals.FromOffsets(level, lower, upper, count);
    }
}
