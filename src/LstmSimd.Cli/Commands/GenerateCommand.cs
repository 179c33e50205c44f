using System.CommandLine;
using System.Globalization;
using LstmSimd.Cli.Tool;
using LstmSimd.IO;
using LstmSimd.Text;
using Spectre.Console;

namespace LstmSimd.Cli.Commands;

/// <summary><c>lstmsimd generate</c>: trains a character-level language model on a text file and samples from it.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var text = new Option<FileInfo?>("--text") { Description = "Training text, UTF-8 (default: the bundled quotations, quotes.txt); its last part is held out for validation. With --model: a text to score the model on (its last part), optional." };
        var model = new Option<FileInfo?>("--model", "-m") { Description = "Sample from this checkpoint instead of training (needs no text: the vocabulary is in the checkpoint)." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Checkpoint to write while training: rewritten (atomically) at each new best validation score.", DefaultValueFactory = _ => new FileInfo("chars.lstm") };
        var minutes = new Option<double>("--minutes") { Description = "Training time budget in minutes.", DefaultValueFactory = _ => 1 };
        var dropout = new Option<double>("--dropout") { Description = "Dropout between stacked LSTM layers while training (needs --layers 2 or more).", DefaultValueFactory = _ => 0 };
        var patience = new Option<int>("--patience") { Description = "Stop after this many validations in a row without a new best (0: train the whole budget).", DefaultValueFactory = _ => 5 };
        var hidden = new Option<int>("--hidden") { Description = "LSTM hidden units.", DefaultValueFactory = _ => 128 };
        var layers = new Option<int>("--layers") { Description = "Stacked LSTM layers.", DefaultValueFactory = _ => 1 };
        var steps = new Option<int>("--steps") { Description = "Characters per truncated-BPTT chunk.", DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { Description = "Parallel streams through the text.", DefaultValueFactory = _ => 32 };
        var rate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 4e-3 };
        var validation = new Option<double>("--validation") { Description = "Share of the text (its end) held out for validation.", DefaultValueFactory = _ => 0.05 };
        var seed = new Option<int>("--seed") { Description = "Seed for the weights and the sampling.", DefaultValueFactory = _ => 1 };
        var length = new Option<int>("--length") { Description = "Characters to sample.", DefaultValueFactory = _ => 400 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature: below 1 safer, above 1 wilder.", DefaultValueFactory = _ => 0.7 };
        var prime = new Option<string>("--prime") { Description = "Text to start the sample with.", DefaultValueFactory = _ => "" };
        var check = new Option<bool>("--check") { Description = "Exit with code 1 unless the LSTM's validation bits per character are below the bigram's." };
        var command = new Command("generate", "Train a character-level LSTM language model on a text file (or load one) and sample from it; reports validation bits per character beside unigram and bigram baselines. Ctrl+C stops training early and keeps the checkpoint.")
        {
            text, model, output, minutes, dropout, patience, hidden, layers, steps, batch, rate, validation, seed, length, temperature, prime, check,
        };
        command.SetAction(parse => ToolExit.Run("generate", () =>
        {
            string? textPath = parse.GetValue(text)?.FullName;
            string? modelPath = parse.GetValue(model)?.FullName;
            string checkpoint = parse.GetValue(output)!.FullName;
            double share = parse.GetValue(validation);
            if (!(share is > 0 and < 0.5)) throw new ArgumentException($"--validation must be between 0 and 0.5; got {share}.");
            if (!(parse.GetValue(temperature) > 0)) throw new ArgumentException("--temperature must be positive.");
            if (parse.GetValue(length) < 0) throw new ArgumentException("--length must be 0 or more.");
            using var ctrlC = new CtrlC();
            CharLanguageModel lm;
            string? content = null;
            if (modelPath is not null)
            {
                lm = CharLanguageModel.Load(modelPath);
                string trainedOn = lm.Source is { } source ? $"trained on {source.Name} ({source.Characters:N0} characters, SHA-256 {source.Sha256[..12]}…)" : "text it was trained on not recorded";
                Console.WriteLine($"model: {modelPath}, LSTM {lm.Vocabulary.Count}→{lm.Weights.Spec.HiddenSize}{(lm.Weights.Spec.NumLayers > 1 ? $" ×{lm.Weights.Spec.NumLayers}" : "")}, {lm.Vocabulary.Count} characters, {trainedOn}");
                if (textPath is not null)
                {
                    content = ReadText(textPath);
                    IReadOnlyList<char> missing = lm.Vocabulary.Missing(content);
                    if (missing.Count > 0)
                        throw new ArgumentException($"{textPath} holds characters the model {modelPath} never saw in training, so it cannot score it: {CharVocabulary.Describe(missing.Take(10))}{(missing.Count > 10 ? $" and {missing.Count - 10} more" : "")}.");
                    if (lm.Source is { } s) Console.WriteLine(s.Describes(content) ? "scoring on the last part of the text it was trained on (held out there too)" : $"scoring on {textPath}, not the text it was trained on");
                }
                else if (parse.GetValue(check)) throw new ArgumentException("--check compares the model with the n-gram baselines on a text: give --text with --model.");
            }
            else
            {
                textPath ??= BundledData.Quotes;
                OutputPaths.RefuseClashes([("--text", textPath)], [("--output", checkpoint)]);
                content = ReadText(textPath);
                var options = new CharTrainingOptions
                {
                    HiddenSize = parse.GetValue(hidden), Layers = parse.GetValue(layers), Steps = parse.GetValue(steps), Streams = parse.GetValue(batch),
                    LearningRate = parse.GetValue(rate), Seed = parse.GetValue(seed), TimeBudget = TimeSpan.FromMinutes(parse.GetValue(minutes)),
                    Dropout = parse.GetValue(dropout), Patience = parse.GetValue(patience),
                };
                if (options.HiddenSize < 1 || options.Layers < 1 || options.Steps < 1 || options.Streams < 1 || options.TimeBudget <= TimeSpan.Zero)
                    throw new ArgumentException("--hidden, --layers, --steps, --batch and --minutes must be positive.");
                if (options.Patience < 0) throw new ArgumentException($"--patience must be 0 (off) or positive; got {options.Patience}.");
                if (!(options.Dropout is >= 0 and < 1)) throw new ArgumentException($"--dropout must be in [0, 1); got {options.Dropout.ToString(CultureInfo.InvariantCulture)}.");
                if (options.Dropout > 0 && options.Layers < 2) throw new ArgumentException("--dropout acts between stacked LSTM layers: it needs --layers 2 or more.");
                lm = Train(textPath, content, Split(content, share), options, checkpoint, ctrlC);
            }

            string primeText = parse.GetValue(prime)!;
            IReadOnlyList<char> unknown = lm.Vocabulary.Missing(primeText);
            if (unknown.Count > 0)
                throw new ArgumentException($"--prime holds characters the model {modelPath ?? checkpoint} never saw in training: {CharVocabulary.Describe(unknown)}.");
            bool beats = content is null || Report(lm, content, Split(content, share));
            PrintSample(lm, primeText, parse.GetValue(length), parse.GetValue(temperature), parse.GetValue(seed));
            if (ctrlC.Pressed) return ToolExit.Interrupted;
            return parse.GetValue(check) && !beats ? ToolExit.CheckFailed : ToolExit.Ok;
        }));
        return command;
    }

    private static string ReadText(string path)
    {
        string content = UserText.ReadUtf8File(path, problem => new FormatException($"{path}, {problem}"));
        if (content.Length < 2000) throw new ArgumentException($"{path} holds {content.Length} characters; a language model needs at least 2000.");
        return content;
    }

    /// <summary>Where the held-out end of the text starts.</summary>
    private static int Split(string content, double share) => content.Length - (int)(content.Length * share);

    /// <summary>
    /// Trains on the text before <paramref name="split"/>, validating on the rest, with a progress display; saves each new
    /// best model (atomically) and returns the best one.
    /// </summary>
    internal static CharLanguageModel Train(string path, string content, int split, CharTrainingOptions options, string checkpoint, CtrlC ctrlC)
    {
        var vocabulary = CharVocabulary.FromText(content);
        int[] train = vocabulary.Encode(content[..split]), held = vocabulary.Encode(content[split..]);
        Console.WriteLine($"text: {path}, {content.Length:N0} characters, {vocabulary.Count} distinct; training on the first {train.Length:N0}, validating on the last {held.Length:N0}");
        string regularised = options.Dropout > 0 ? $", dropout {options.Dropout.ToString(CultureInfo.InvariantCulture)}" : "";
        Console.WriteLine($"model: LSTM {vocabulary.Count}→{options.HiddenSize}{(options.Layers > 1 ? $" ×{options.Layers}" : "")} → {vocabulary.Count} logits; {options.Streams} streams × {options.Steps} steps, Adam lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}{regularised}; budget {TrainingDisplay.Clock(options.TimeBudget)}{(options.Patience > 0 ? $", stopping after {options.Patience} validations without a new best" : "")}");
        CharTrainingResult result = TrainingDisplay.Run("generate", mayStopEarly: options.Patience > 0, update => CharModelTraining.Train(vocabulary, train, held, options,
            report => update(report.Elapsed / report.Budget,
                $"{report.Characters / 1000:N0}k chars train {report.TrainBitsPerChar:F2} val {Bits(report.ValidationBitsPerChar)} best {Bits(report.BestValidationBitsPerChar)} bpc"),
            (best, _) => best.Save(checkpoint), ctrlC.Token, CharTextSource.Of(Path.GetFileName(path), content)));
        string why = ctrlC.Pressed ? "stopped by Ctrl+C" : result.StoppedEarly ? $"stopped early (no new best in {options.Patience} validations)" : "trained";
        Console.WriteLine($"{why} on {result.Characters:N0} characters ({result.Characters / (double)train.Length:F1} passes), {result.Evaluations} validations; kept the best, {Bits(result.ValidationBitsPerChar)} bits/char, in {checkpoint}");
        return result.Model;
    }

    private static string Bits(double bits) => double.IsNaN(bits) ? "…" : bits.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>Prints validation bits per character beside the baselines; returns whether the LSTM beats the bigram.</summary>
    internal static bool Report(CharLanguageModel lm, string content, int split)
    {
        int[] trainIds = lm.Vocabulary.Encode(content[..split]), validationIds = lm.Vocabulary.Encode(content[split..]);
        double lstm = lm.BitsPerChar(validationIds);
        double unigram = NGramBaselines.UnigramBitsPerChar(trainIds, validationIds, lm.Vocabulary.Count);
        double bigram = NGramBaselines.BigramBitsPerChar(trainIds, validationIds, lm.Vocabulary.Count);
        var table = new Table().Border(TableBorder.Rounded).AddColumn("model").AddColumn(new TableColumn("validation bits/char").RightAligned());
        table.AddRow("uniform", Math.Log2(lm.Vocabulary.Count).ToString("F3", CultureInfo.InvariantCulture));
        table.AddRow("unigram (add-one)", unigram.ToString("F3", CultureInfo.InvariantCulture));
        table.AddRow("bigram (add-k, best k)", bigram.ToString("F3", CultureInfo.InvariantCulture));
        table.AddRow("[bold]LSTM[/]", lstm.ToString("F3", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        Console.WriteLine(lstm < bigram ? $"the LSTM beats the bigram by {bigram - lstm:F2} bits per character" : "the LSTM does NOT beat the bigram");
        return lstm < bigram;
    }

    internal static void PrintSample(CharLanguageModel lm, string prime, int length, double temperature, int seed)
    {
        string sampled = lm.Sample(prime, length, temperature, (ulong)seed);
        Console.WriteLine($"--- sample (temperature {temperature.ToString(CultureInfo.InvariantCulture)}, seed {seed}) ---");
        Console.WriteLine(sampled);
        Console.WriteLine("---");
    }
}
