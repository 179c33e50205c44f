namespace LstmSimd.Forecasting;

/// <summary>
/// Combinations of forecasts from several models of one kind (an LSTM trained from several seeds, as the M4 winner
/// combined its networks): each step ahead gets the median of the members' forecasts for it, which one member that
/// trained badly cannot drag away, as it could a mean.
/// </summary>
public static class ForecastEnsemble
{
    /// <summary>
    /// A method whose forecast of each step is the median of <paramref name="members"/>' forecasts of that step (the
    /// mean of the middle two for an even count).
    /// </summary>
    /// <exception cref="ArgumentException">No members, or a null one.</exception>
    public static ForecastMethod Median(IReadOnlyList<ForecastMethod> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("An ensemble needs at least one member.", nameof(members));
        if (members.Any(m => m is null)) throw new ArgumentException("An ensemble's members must not be null.", nameof(members));
        ForecastMethod[] copy = [.. members];
        if (copy.Length == 1) return copy[0];
        return (target, origin, destination) =>
        {
            var forecasts = new double[copy.Length][];
            for (int k = 0; k < copy.Length; k++)
            {
                forecasts[k] = new double[destination.Length];
                copy[k](target, origin, forecasts[k]);
            }

            var step = new double[copy.Length];
            for (int h = 0; h < destination.Length; h++)
            {
                for (int k = 0; k < copy.Length; k++) step[k] = forecasts[k][h];
                Array.Sort(step);
                int middle = step.Length / 2;
                destination[h] = step.Length % 2 == 1 ? step[middle] : 0.5 * (step[middle - 1] + step[middle]);
            }
        };
    }
}
