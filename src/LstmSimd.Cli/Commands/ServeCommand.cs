using System.CommandLine;
using System.Net;
using LstmSimd.Cli.Serving;
using LstmSimd.Cli.Tool;
using LstmSimd.Forecasting;
using LstmSimd.IO;

namespace LstmSimd.Cli.Commands;

/// <summary>
/// <c>lstmsimd serve</c>: one model over many streams behind HTTP (see <see cref="StreamService"/>): each request steps
/// streams named by keys, requests that arrive together run as one batched step (of an <see cref="LstmStreamPool{TKey}"/>
/// for a plain model, of <see cref="ForecastStreams{TKey}"/> for a forecaster checkpoint), and the streams' state is
/// saved on shutdown and restored on start.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "Model: an LstmSimd .safetensors file, a PyTorch state_dict (.pt/.pth, or .safetensors), or a forecaster checkpoint written by 'lstmsimd train' (each stream then keeps its latest window of values and is answered with the forecast).", Required = true };
        var prefix = new Option<string?>("--prefix") { Description = "PyTorch parameter prefix, e.g. 'lstm.' (default: found automatically)." };
        var head = new Option<string?>("--head") { Description = "Prefix of an nn.Linear head applied to each step's output, e.g. 'fc.'; its result is answered as 'head'. An LstmSimd model file's own head applies without this." };
        var weights = new Option<string?>("--weights") { Description = $"How the weight matrices are stored: {WeightsOption.Names}; default: the file's own precision." };
        var address = new Option<string>("--address") { Description = "The IP address to listen on; 0.0.0.0 or :: listens on every interface.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "The TCP port (0: any free port, printed on start).", DefaultValueFactory = _ => 5000 };
        var state = new Option<FileInfo?>("--state") { Description = "File of the streams' state: restored on start when it exists, saved on shutdown (Ctrl+C, SIGTERM) and every --save-every seconds." };
        var saveEvery = new Option<double>("--save-every") { Description = "Seconds between saves of --state while serving (0: only on shutdown).", DefaultValueFactory = _ => 60 };
        var capacity = new Option<int>("--capacity") { Description = "The most streams held at once; a request that would add more is refused (503).", DefaultValueFactory = _ => 10_000 };
        var queue = new Option<int>("--queue") { Description = "The most requests waiting for a step; more are refused (429) until the queue drains.", DefaultValueFactory = _ => 4096 };
        var maxBody = new Option<long>("--max-body") { Description = "The largest request body in bytes; larger ones are refused (413).", DefaultValueFactory = _ => 1 << 20 };
        var threshold = new Option<double?>("--threshold") { Description = "Forecaster checkpoints: also score each value as 'lstmsimd detect' does (its residual against the one-step forecast the stream's previous step made, in robust standard deviations of the training residuals) and flag it beyond this many." };
        var data = new Option<FileInfo?>("--data") { Description = "With --threshold: the CSV whose training rows give the residuals' median and spread (default: the file the forecaster was trained on, remembered in the checkpoint)." };
        var batchWindow = new Option<double>("--batch-window") { Description = "Milliseconds a step waits after its first request for more to join its batch (0: steps at once with whatever has arrived).", DefaultValueFactory = _ => 0 };
        var command = new Command("serve", "Serve a model over many streams on HTTP: POST /step with a stream key and its input, answered with the step's output (a forecaster's: the forecast, and with --threshold the anomaly score); requests that arrive together run as one batched step.")
        {
            model, prefix, head, weights, address, port, state, saveEvery, capacity, queue, maxBody, batchWindow, threshold, data,
        };
        command.SetAction(parse => ToolExit.Run("serve", () =>
        {
            var settings = new ServeSettings(
                ParseAddress(parse.GetValue(address)!),
                InRange("--port", parse.GetValue(port), 0, IPEndPoint.MaxPort),
                parse.GetValue(state)?.FullName,
                InRange("--queue", parse.GetValue(queue), 1, 1 << 20),
                InRange("--max-body", parse.GetValue(maxBody), 1, int.MaxValue),
                TimeSpan.FromSeconds(Within("--save-every", parse.GetValue(saveEvery), 86_400, "seconds")),
                TimeSpan.FromMilliseconds(Within("--batch-window", parse.GetValue(batchWindow), 10_000, "ms")));
            if (settings.StatePath is not null) OutputPaths.RefuseClashes([("--model", parse.GetValue(model)!.FullName), .. ForecastCommand.GivenData(parse.GetValue(data))], [("--state", settings.StatePath)]);
            string modelPath = parse.GetValue(model)!.FullName;
            string? weightsName = parse.GetValue(weights);
            WeightFormat? format = weightsName is null ? null : WeightsOption.Parse(weightsName);
            int streamCapacity = InRange("--capacity", parse.GetValue(capacity), 1, 1 << 24);
            double? limit = parse.GetValue(threshold);
            FileInfo? residualData = parse.GetValue(data);
            if (GlobalCheckpoints.IsGlobal(modelPath))
                throw new NotSupportedException($"{modelPath} holds a model over many series (lstmsimd backtest --save); serve streams single-series forecasters only: a stream carries one series' window, not the per-series smoothing state (level, trend, season) or scaling such a model forecasts from. Use it with forecast or detect, or serve a forecaster from lstmsimd train.");
            using ServedStreams streams = IsForecaster(modelPath)
                ? LoadForecaster(modelPath, parse.GetValue(prefix), parse.GetValue(head), format, streamCapacity, limit, residualData)
                : LoadModel(modelPath, parse.GetValue(prefix), parse.GetValue(head), format, streamCapacity, limit, residualData);
            if (settings.StatePath is not null) Console.WriteLine(Restore(streams, settings.StatePath));
            return StreamService.RunAsync(streams, settings, Console.Out).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static PoolStreams LoadModel(string path, string? prefix, string? head, WeightFormat? weights, int capacity, double? threshold, FileInfo? data)
    {
        if (threshold is not null || data is not null)
            throw new ArgumentException($"--threshold and --data apply to a forecaster checkpoint; {path} is a plain model, answered with its outputs.");
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"{path}: serve takes an LstmSimd model file or a PyTorch state_dict; an ONNX graph's operators around its LSTM cannot run one step at a time.");
        ImportedLstm imported;
        try
        {
            imported = RunCommand.LoadModel(path, prefix, head);
        }
        catch (ModelFormatException e)
        {
            throw new ModelFormatException($"--model {path}: {e.Message}", e);
        }

        if (imported.Weights.Spec.Bidirectional)
            throw new NotSupportedException($"{path}: a bidirectional LSTM needs whole sequences and cannot stream.");
        var lstm = LstmModel.Create(imported.Weights, new LstmModelOptions { Weights = weights ?? imported.StoredWeightFormat });
        var pool = new LstmStreamPool<string>(lstm, capacity, StringComparer.Ordinal);
        LstmSpec spec = lstm.Spec;
        Console.WriteLine($"{imported.Description}: {spec.InputSize} inputs → {spec.OutputHiddenSize} outputs{(imported.Head is null ? "" : $", head of {imported.Head.OutputSize}")} per step ({lstm.KernelPath} kernels, {WeightsOption.NameOf(lstm.WeightFormat)} weights), up to {pool.Capacity} streams");
        return new PoolStreams(pool, imported.Head);
    }

    /// <summary>Whether <paramref name="path"/> is a forecaster checkpoint (an LstmSimd model file with the forecaster's metadata).</summary>
    private static bool IsForecaster(string path)
    {
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            using SafetensorsFile file = PyTorchStateDict.Open(path);
            return LstmModelFile.IsModelFile(file) && file.Metadata.ContainsKey(LstmForecaster.MetadataKey);
        }
        catch (ModelFormatException)
        {
            return false; // the plain model's loading names what is wrong with the file
        }
    }

    private static ForecasterStreams LoadForecaster(string path, string? prefix, string? head, WeightFormat? weights, int capacity, double? threshold, FileInfo? data)
    {
        if (prefix is not null || head is not null) throw new ArgumentException($"--prefix and --head apply to PyTorch state_dicts; {path} is a forecaster checkpoint, whose head is its own.");
        if (data is not null && threshold is null) throw new ArgumentException("--data gives the residuals that --threshold judges against; give --threshold too.");
        if (threshold is { } t && !(t > 0 && double.IsFinite(t))) throw new ArgumentException($"--threshold must be positive; got {t}.");
        LstmForecaster forecaster = LstmForecaster.Load(path, new LstmModelOptions { Weights = weights ?? WeightFormat.Float32 });
        var streams = new ForecasterStreams(new ForecastStreams<string>(forecaster, capacity, StringComparer.Ordinal), Detector(forecaster, threshold, data));
        ForecastSettings s = forecaster.Settings;
        Console.WriteLine($"forecaster: window {s.Window}, horizon {s.Horizon}, predicts '{s.TargetColumn}' from [{string.Join(", ", s.InputColumns)}]; each step takes [{string.Join(", ", streams.Columns)}] ({forecaster.Model.KernelPath} kernels, {WeightsOption.NameOf(forecaster.Model.WeightFormat)} weights), up to {streams.Capacity} streams");
        return streams;
    }

    /// <summary>The residuals' median and robust spread on the training rows, as <c>lstmsimd detect</c> finds them; null without a threshold.</summary>
    private static ResidualThreshold? Detector(LstmForecaster forecaster, double? threshold, FileInfo? data)
    {
        if (threshold is not { } limit) return null;
        ForecastSeries series = ForecastCommand.LoadSeries(forecaster, data, testFrom: null);
        DetectCommand.ResidualScores scores = DetectCommand.Score(forecaster, series);
        string F(double v) => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
        Console.WriteLine($"anomaly scores: one-step residuals less the training residuals' median {F(scores.Median)}, over their robust σ {F(scores.Sigma)}; flagged beyond {F(limit)} σ");
        return new ResidualThreshold(scores.Median, scores.Sigma, limit);
    }

    /// <summary>Restores the streams from <paramref name="path"/> when it exists; a file that does not fit the model is refused with the reason.</summary>
    private static string Restore(ServedStreams pool, string path)
    {
        if (!File.Exists(path)) return $"no state at {path} yet: the streams start empty";
        try
        {
            pool.RestoreState(path);
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException($"--state {path}: {e.Message} Move it away to start with empty streams.", e);
        }

        return $"restored {pool.Count} streams from {path}";
    }

    private static IPAddress ParseAddress(string text) =>
        IPAddress.TryParse(text, out IPAddress? address) ? address : throw new ArgumentException($"--address {UserText.Printable(text)}: not an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0).");

    private static double Within(string option, double value, double max, string unit) =>
        double.IsFinite(value) && value >= 0 && value <= max ? value : throw new ArgumentException($"{option} {value}: must be between 0 and {max} {unit}.");

    private static T InRange<T>(string option, T value, T min, T max) where T : System.Numerics.INumber<T> =>
        value >= min && value <= max ? value : throw new ArgumentException($"{option} {value}: must be between {min} and {max}.");
}
