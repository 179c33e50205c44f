using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Forecasting;

/// <summary>What an autoencoder training run ended with.</summary>
/// <param name="Autoencoder">The autoencoder of the best validation epoch.</param>
/// <param name="Epochs">Epochs completed.</param>
/// <param name="BestEpoch">The epoch whose weights <paramref name="Autoencoder"/> holds.</param>
/// <param name="BestValidationLoss">Its mean squared reconstruction error on the validation windows (z-scored units).</param>
/// <param name="StopReason">Why training stopped.</param>
public sealed record AutoencoderTrainingResult(LstmAutoencoder Autoencoder, int Epochs, int BestEpoch, double BestValidationLoss, string StopReason);

/// <summary>
/// Trains an <see cref="LstmAutoencoder"/> on the windows that end before the validation rows, with teacher forcing as
/// Malhotra et al. do (the decoder reads the true row after the one it is to give back), the mean squared error over every
/// row and column of each window, Adam and global-norm clipping; the encoder and decoder run on
/// <see cref="LstmTrainingSession"/>, the decoder's ∂loss/∂h0 and ∂loss/∂c0 flowing into the encoder's final state. The
/// weights of the best validation loss (windows ending on validation rows) are kept; training stops early when it stops
/// improving. <see cref="ForecastTrainingOptions"/> gives the sizes and optimiser (its <see cref="ForecastTrainingOptions.Layers"/> must be 1).
/// </summary>
public static class AutoencoderTraining
{
    /// <summary>Trains on <paramref name="series"/> (its columns those of <paramref name="settings"/>, whose scaling is replaced by z-scores).</summary>
    /// <exception cref="ArgumentException">No training or no validation window, more than one layer, or the target not among the inputs.</exception>
    public static AutoencoderTrainingResult Train(ForecastSeries series, ForecastSettings settings, ForecastTrainingOptions options, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Layers != 1) throw new ArgumentException($"The autoencoder's encoder and decoder have one layer each; got {options.Layers} layers.");
        ForecastSettings zscored = settings with { Normalization = SeriesNormalization.ZScore };
        int window = zscored.Window, features = zscored.InputColumns.Count, hidden = options.HiddenSize;
        SeriesScaler scaler = SeriesScaler.Fit(SeriesNormalization.ZScore, [.. series.Inputs, series.Target], series.Split.ValidationStart, 1);
        var spec = new LstmSpec(features, hidden);
        LstmWeights encoderWeights = LstmWeights.CreateRandom(spec, options.Seed, forgetBias: 1), decoderWeights = LstmWeights.CreateRandom(spec, options.Seed + 1, forgetBias: 1);
        var head = new TrainableLinearHead(hidden, features, new SeededRandom((ulong)options.Seed + 2));
        LstmAutoencoder Snapshot() => new(zscored, scaler, encoderWeights.Clone(), decoderWeights.Clone(),
            new LinearHead(hidden, features, (float[])head.Weight.Clone(), (float[])head.Bias.Clone()));
        // Constructed first: it checks the settings (the target among the inputs) before any training.
        LstmAutoencoder best = Snapshot();

        int[] train = [.. Enumerable.Range(window - 1, Math.Max(0, series.Split.ValidationStart - window + 1))];
        int[] validation = [.. Enumerable.Range(Math.Max(window - 1, series.Split.ValidationStart), Math.Max(0, series.Split.TestStart - Math.Max(window - 1, series.Split.ValidationStart)))];
        if (train.Length == 0 || validation.Length == 0)
        {
            best.Dispose();
            throw new ArgumentException($"Training the autoencoder needs at least one training and one validation window of {window} rows; got {train.Length} and {validation.Length}.");
        }

        int batchSize = Math.Min(options.BatchSize, train.Length);
        using var passes = new ReconstructionPasses(encoderWeights, decoderWeights, head, options, Math.Max(batchSize, Math.Min(validation.Length, 256)), window, features, series, scaler);
        var random = new SeededRandom((ulong)options.Seed + 3);
        int[] order = [.. train];
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, epoch = 0;
        string reason = $"reached {options.MaxEpochs} epochs";
        while (epoch < options.MaxEpochs)
        {
            ForecasterTraining.Shuffle(order, random);
            for (int start = 0; start < order.Length && !cancellation.IsCancellationRequested; start += batchSize)
                passes.Step(order.AsSpan(start, Math.Min(batchSize, order.Length - start)));
            if (cancellation.IsCancellationRequested)
            {
                reason = "stopped by the user";
                break;
            }

            epoch++;
            double loss = passes.Loss(validation);
            if (loss < bestLoss)
            {
                bestLoss = loss;
                bestEpoch = epoch;
                best.Dispose();
                best = Snapshot();
            }

            if (epoch - bestEpoch >= options.Patience)
            {
                reason = $"early stop: no better validation loss in {options.Patience} epochs";
                break;
            }
        }

        return new AutoencoderTrainingResult(best, epoch, bestEpoch, bestLoss, reason);
    }

    /// <summary>The forward and backward passes of the encoder, decoder and head over batches of windows, and the optimiser.</summary>
    private sealed class ReconstructionPasses : IDisposable
    {
        private readonly LstmTrainingSession _encoder, _decoder;
        private readonly TrainableLinearHead _head;
        private readonly ParameterSet _parameters;
        private readonly AdamOptimizer _optimizer;
        private readonly double _clipNorm;
        private readonly int _window, _features, _hidden, _maxBatch;
        private readonly ForecastSeries _series;
        private readonly SeriesScaler _scaler;
        private readonly float[] _input, _decoderInput, _target, _decoded, _prediction, _gradPrediction, _gradDecoded, _h, _c, _gradH, _gradC;

        public ReconstructionPasses(LstmWeights encoder, LstmWeights decoder, TrainableLinearHead head, ForecastTrainingOptions options, int maxBatch, int window, int features,
            ForecastSeries series, SeriesScaler scaler)
        {
            _window = window;
            _features = features;
            _hidden = encoder.Spec.HiddenSize;
            _maxBatch = maxBatch;
            _series = series;
            _scaler = scaler;
            _head = head;
            _clipNorm = options.ClipNorm;
            int rows = Sizes.Elements("windows × window × columns", maxBatch, window, features);
            _input = new float[rows];
            _decoderInput = new float[rows];
            _target = new float[rows];
            _prediction = new float[rows];
            _gradPrediction = new float[rows];
            _decoded = new float[Sizes.Elements("decoder outputs windows × window × hidden", maxBatch, window, _hidden)];
            _gradDecoded = new float[_decoded.Length];
            _h = new float[maxBatch * _hidden];
            _c = new float[maxBatch * _hidden];
            _gradH = new float[maxBatch * _hidden];
            _gradC = new float[maxBatch * _hidden];
            _encoder = new LstmTrainingSession(encoder, maxBatch, window);
            _decoder = new LstmTrainingSession(decoder, maxBatch, window);
            _parameters = new ParameterSet();
            _encoder.AddTo(_parameters, "encoder.");
            _decoder.AddTo(_parameters, "decoder.");
            head.AddTo(_parameters, "head.");
            _optimizer = new AdamOptimizer(_parameters, options.LearningRate);
        }

        public void Dispose()
        {
            _encoder.Dispose();
            _decoder.Dispose();
        }

        public void Step(ReadOnlySpan<int> ends)
        {
            int batch = ends.Length, rows = batch * _window;
            Forward(ends);
            _parameters.ZeroGradients();
            _head.Backward(_decoded.AsSpan(0, rows * _hidden), _gradPrediction.AsSpan(0, rows * _features), rows, _gradDecoded.AsSpan(0, rows * _hidden));
            _decoder.Backward(_gradDecoded.AsSpan(0, rows * _hidden), gradH0: _gradH.AsSpan(0, batch * _hidden), gradC0: _gradC.AsSpan(0, batch * _hidden));
            _encoder.Backward(gradHN: _gradH.AsSpan(0, batch * _hidden), gradCN: _gradC.AsSpan(0, batch * _hidden));
            double norm = _clipNorm > 0 ? _parameters.ClipGradientNorm(_clipNorm) : _parameters.GradientNorm();
            if (!double.IsFinite(norm)) return;
            _optimizer.Step();
            _encoder.RefreshWeights();
            _decoder.RefreshWeights();
        }

        /// <summary>The mean squared reconstruction error (teacher-forced) over <paramref name="ends"/>.</summary>
        public double Loss(int[] ends)
        {
            double sum = 0;
            _encoder.Training = false;
            _decoder.Training = false;
            for (int start = 0; start < ends.Length; start += _maxBatch)
            {
                int batch = Math.Min(_maxBatch, ends.Length - start);
                sum += Forward(ends.AsSpan(start, batch)) * batch;
            }

            _encoder.Training = true;
            _decoder.Training = true;
            return sum / ends.Length;
        }

        /// <summary>
        /// Fills the windows ending at <paramref name="ends"/>, runs the encoder, the decoder (reading zeros, then the true
        /// rows newest first) and the head; returns the loss with its gradient in <c>_gradPrediction</c>.
        /// </summary>
        private double Forward(ReadOnlySpan<int> ends)
        {
            int batch = ends.Length, stride = _window * _features, rows = batch * _window;
            for (int b = 0; b < batch; b++)
            {
                Span<float> window = _input.AsSpan(b * stride, stride), decoderInput = _decoderInput.AsSpan(b * stride, stride), target = _target.AsSpan(b * stride, stride);
                _scaler.FillInput(_series.Inputs, ends[b], _window, window);
                decoderInput[.._features].Clear();
                for (int k = 0; k < _window; k++)
                {
                    // Decoder step k gives back row window − 1 − k, after reading row window − k (the one it gave before).
                    window.Slice((_window - 1 - k) * _features, _features).CopyTo(target.Slice(k * _features, _features));
                    if (k > 0) window.Slice((_window - k) * _features, _features).CopyTo(decoderInput.Slice(k * _features, _features));
                }
            }

            _encoder.Forward(_input.AsSpan(0, rows * _features), _window, batch, default, _h.AsSpan(0, batch * _hidden), _c.AsSpan(0, batch * _hidden), layout: SequenceLayout.BatchFirst);
            _decoder.Forward(_decoderInput.AsSpan(0, rows * _features), _window, batch, _decoded.AsSpan(0, rows * _hidden),
                h0: _h.AsSpan(0, batch * _hidden), c0: _c.AsSpan(0, batch * _hidden), layout: SequenceLayout.BatchFirst);
            _head.Forward(_decoded.AsSpan(0, rows * _hidden), rows, _prediction.AsSpan(0, rows * _features));
            return Losses.MeanSquaredError(_prediction.AsSpan(0, rows * _features), _target.AsSpan(0, rows * _features), _gradPrediction.AsSpan(0, rows * _features));
        }
    }
}
