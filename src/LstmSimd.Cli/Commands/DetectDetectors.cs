using System.Globalization;
using LstmSimd.Forecasting;
using Spectre.Console;

namespace LstmSimd.Cli.Commands;

/// <summary>What <c>detect</c> scores: the forecaster's one-step residuals, or an encoder–decoder's reconstruction errors.</summary>
internal enum DetectionMethod
{
    Residual,
    Reconstruction,
}

/// <summary>How <c>detect</c> turns errors into flags.</summary>
internal enum ThresholdRule
{
    Sigma,
    Dynamic,
}

/// <summary>A method, a threshold rule and, for <see cref="ThresholdRule.Sigma"/>, the number of robust σ beyond which a step is flagged.</summary>
internal sealed record Detector(DetectionMethod Method, ThresholdRule Rule, double Sigmas)
{
    /// <summary>The dynamic rule's settings: telemanom's defaults.</summary>
    public static DynamicThresholdOptions DynamicOptions { get; } = new();

    /// <summary>The flag of each row of <paramref name="scores"/>, and the rule in words.</summary>
    public bool[] Flags(DetectCommand.ResidualScores scores, out string rule)
    {
        if (Rule == ThresholdRule.Sigma)
        {
            rule = $"threshold {Sigmas.ToString(CultureInfo.InvariantCulture)} σ";
            return [.. scores.Score.Select(z => Math.Abs(z) > Sigmas)];
        }

        DynamicThresholdOptions o = DynamicOptions;
        rule = $"dynamic threshold (errors smoothed over a span of {o.SmoothingSpan}, thresholds chosen over {o.Window} errors moved by {o.Step}, z {o.MinZ.ToString(CultureInfo.InvariantCulture)} … {o.MaxZ.ToString(CultureInfo.InvariantCulture)}, pruned at p = {o.MinPercentDecrease.ToString(CultureInfo.InvariantCulture)})";
        return DynamicFlags(scores.Score, Array.FindIndex(scores.Expected, double.IsFinite));
    }

    /// <summary>telemanom's flags over the scores from row <paramref name="first"/> on (the rows before it have no score; −1: none has).</summary>
    public static bool[] DynamicFlags(double[] scores, int first)
    {
        var flags = new bool[scores.Length];
        if (first < 0) return flags;
        DynamicThreshold.Detect(scores.AsSpan(first), DynamicOptions).Flags.CopyTo(flags, first);
        return flags;
    }
}

/// <summary>The encoder–decoder of <c>detect --method reconstruction</c>: loaded from a checkpoint or trained on the forecaster's training rows.</summary>
internal static class Reconstruction
{
    /// <summary>The training run <c>detect</c> makes: a small model, stopped early on the validation windows.</summary>
    public static ForecastTrainingOptions Training { get; } = new() { HiddenSize = 16, MaxEpochs = 60, Patience = 10, BatchSize = 32, LearningRate = 3e-3, Seed = 1 };

    /// <summary>Robust z-scores of the reconstruction errors of the target, against those of the training rows.</summary>
    public static DetectCommand.ResidualScores Score(ForecastSettings settings, TimeSeriesTable table, ForecastSeries series, string? load, string? save)
    {
        ForecastSettings wanted = settings with
        {
            InputColumns = settings.InputColumns.Contains(settings.TargetColumn) ? settings.InputColumns : [settings.TargetColumn, .. settings.InputColumns],
            Normalization = SeriesNormalization.ZScore,
        };
        ForecastSeries columns = wanted.InputColumns.SequenceEqual(settings.InputColumns) ? series : ForecastSeries.From(table, wanted);
        LstmAutoencoder autoencoder;
        if (load is not null)
        {
            autoencoder = LstmAutoencoder.Load(load);
            ForecastSettings had = autoencoder.Settings;
            if (!had.InputColumns.SequenceEqual(wanted.InputColumns) || had.TargetColumn != wanted.TargetColumn || had.Window != wanted.Window)
            {
                autoencoder.Dispose();
                throw new ArgumentException($"--reconstructor {load} reconstructs [{string.Join(", ", had.InputColumns)}] over windows of {had.Window} for '{had.TargetColumn}'; the forecaster needs [{string.Join(", ", wanted.InputColumns)}] over {wanted.Window} for '{wanted.TargetColumn}'.");
            }

            Console.WriteLine($"reconstructor: {load}: LSTM encoder–decoder, hidden {autoencoder.Encoder.Spec.HiddenSize}, windows of {had.Window}");
        }
        else
        {
            AutoencoderTrainingResult result = AutoencoderTraining.Train(columns, wanted, Training);
            autoencoder = result.Autoencoder;
            Console.WriteLine($"reconstructor: LSTM encoder–decoder [{string.Join(", ", wanted.InputColumns)}] → {Training.HiddenSize} → reversed window of {wanted.Window}, trained on the windows before the validation rows: validation MSE {result.BestValidationLoss.ToString("F4", CultureInfo.InvariantCulture)} (z-scored) at epoch {result.BestEpoch} of {result.Epochs} ({result.StopReason})");
        }

        using (autoencoder)
        {
            if (save is not null)
            {
                autoencoder.Save(save);
                Console.WriteLine($"wrote {save}");
            }

            return DetectCommand.Standardize(series, autoencoder.Expected(columns));
        }
    }
}
