using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LstmSimd.Cli.Tool;
using LstmSimd.Text;
using Spectre.Console;

namespace LstmSimd.Cli.Commands;

/// <summary><c>lstmsimd translate train|run</c>: a subword encoder–decoder with attention, trained on gettext catalogs.</summary>
internal static class TranslateCommand
{
    public const string DefaultCatalogs = "/usr/share/locale/de/LC_MESSAGES";

    public static Command Create() => new("translate", "Sequence-to-sequence translation over byte-pair-encoded subwords (bidirectional encoder LSTM, decoder LSTM, Luong attention): train on the English→target pairs of gettext catalogs and score on held-out pairs beside baselines, or translate with a trained model.")
    {
        CreateTrain(), CreateRun(),
    };

    private static Command CreateTrain()
    {
        var catalogs = new Option<DirectoryInfo>("--catalogs") { Description = "Folder of gettext .mo catalogs (English msgid → translated msgstr).", DefaultValueFactory = _ => new DirectoryInfo(DefaultCatalogs) };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Checkpoint to write: rewritten (atomically) at each new best validation loss.", DefaultValueFactory = _ => new FileInfo("translator.lstm") };
        var minutes = new Option<double>("--minutes") { Description = "Training time budget in minutes.", DefaultValueFactory = _ => 10 };
        var epochs = new Option<int>("--epochs") { Description = "Stop after this many passes over the training pairs (if the time budget lasts).", DefaultValueFactory = _ => 50 };
        var merges = new Option<int>("--merges") { Description = "Byte-pair merges learned from the training pairs (0: characters only).", DefaultValueFactory = _ => 1000 };
        var embedding = new Option<int>("--embedding") { Description = "Length of each subword's vector.", DefaultValueFactory = _ => 192 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units of the decoder LSTM (even; the bidirectional encoder has half in each direction).", DefaultValueFactory = _ => 384 };
        var threads = new Option<int>("--threads") { Description = "Threads a training step computes with (each takes part of the batch) and the test translations run on.", DefaultValueFactory = _ => 2 };
        var batch = new Option<int>("--batch") { Description = "Sentence pairs per step.", DefaultValueFactory = _ => 32 };
        var rate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 2e-3 };
        var patience = new Option<int>("--patience") { Description = "Stop after this many validations in a row without a new best (0: train the whole budget).", DefaultValueFactory = _ => 5 };
        var maxLength = new Option<int>("--max-length") { Description = "Longest message (source and translation, in characters) to use.", DefaultValueFactory = _ => 40 };
        var seed = new Option<int>("--seed") { Description = "Seed for the weights and the order of the pairs.", DefaultValueFactory = _ => 1 };
        var beam = new Option<int>("--beam") { Description = "Beam width for the test translations (1: greedy only).", DefaultValueFactory = _ => 5 };
        var penalty = new Option<double>("--length-penalty") { Description = "Beam search ranks finished translations by log-probability / length^this.", DefaultValueFactory = _ => 1 };
        var check = new Option<bool>("--check") { Description = "Exit with code 1 unless the model's test chrF is above both baselines'." };
        var command = new Command("train", "Train a translator on the catalogs' train part, keep the best by validation loss, and report chrF and BLEU on the held-out test part beside copying the source and a word-by-word lookup. Ctrl+C stops training early and keeps the checkpoint.")
        {
            catalogs, output, minutes, epochs, merges, embedding, hidden, threads, batch, rate, patience, maxLength, seed, beam, penalty, check,
        };
        command.SetAction(parse => ToolExit.Run("translate train", () =>
        {
            string folder = parse.GetValue(catalogs)!.FullName, checkpoint = parse.GetValue(output)!.FullName;
            var options = new TranslatorTrainingOptions
            {
                Merges = parse.GetValue(merges), EmbeddingSize = parse.GetValue(embedding), HiddenSize = parse.GetValue(hidden), Batch = parse.GetValue(batch), LearningRate = parse.GetValue(rate), Patience = parse.GetValue(patience),
                Threads = parse.GetValue(threads), Seed = parse.GetValue(seed), MaxEpochs = parse.GetValue(epochs), TimeBudget = TimeSpan.FromMinutes(parse.GetValue(minutes)),
            };
            if (options.EmbeddingSize < 1 || options.Batch < 1 || options.MaxEpochs < 1 || !(options.TimeBudget > TimeSpan.Zero) || !(options.LearningRate > 0))
                throw new ArgumentException("--embedding, --batch, --epochs, --minutes and --lr must be positive.");
            if (options.HiddenSize < 2 || options.HiddenSize % 2 != 0) throw new ArgumentException($"--hidden must be even and at least 2 (the encoder gives each direction half); got {options.HiddenSize}.");
            if (options.Threads is < 1 or > 16) throw new ArgumentException($"--threads must be in [1, 16]; got {options.Threads}.");
            if (options.Merges < 0) throw new ArgumentException($"--merges must be 0 or more; got {options.Merges}.");
            if (options.Patience < 0) throw new ArgumentException($"--patience must be 0 (off) or positive; got {options.Patience}.");
            int limit = parse.GetValue(maxLength), width = parse.GetValue(beam);
            double lengthPenalty = parse.GetValue(penalty);
            if (limit is < 1 or > 1000) throw new ArgumentException($"--max-length must be in [1, 1000]; got {limit}.");
            CheckDecoding(width, lengthPenalty);

            TranslationCorpus corpus = TranslationCorpus.FromFolder(folder, limit);
            foreach (string reason in corpus.Skipped) Console.WriteLine($"skipped {reason}");
            Console.WriteLine($"catalogs: {folder}, {corpus.Entries:N0} entries; {corpus.Train.Count + corpus.Validation.Count + corpus.Test.Count:N0} distinct messages of ≤ {limit} characters (no plurals, contexts or line breaks): {corpus.Train.Count:N0} train, {corpus.Validation.Count:N0} validation, {corpus.Test.Count:N0} test (split by a hash of the source)");
            if (corpus.Train.Count < options.Batch || corpus.Validation.Count == 0 || corpus.Test.Count == 0)
                throw new ArgumentException($"{folder} gives {corpus.Train.Count} training, {corpus.Validation.Count} validation and {corpus.Test.Count} test pairs; training needs at least a batch ({options.Batch}) of training pairs and some of each other part.");
            Console.WriteLine($"model: byte-pair encoding of the training pairs ({options.Merges:N0} merges), embedding {options.EmbeddingSize}, bidirectional encoder LSTM of 2 × {options.HiddenSize / 2}, decoder LSTM of {options.HiddenSize}, Luong dot attention, unknown symbols copied from the attended source; batch {options.Batch} on {options.Threads} thread(s), Adam lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}; budget {TrainingDisplay.Clock(options.TimeBudget)} or {options.MaxEpochs} passes{(options.Patience > 0 ? $", stopping after {options.Patience} validations without a new best" : "")}");
            using var ctrlC = new CtrlC();
            var clock = Stopwatch.StartNew();
            TranslatorTrainingResult result = TrainingDisplay.Run("translate", mayStopEarly: options.Patience > 0, update => TranslatorTraining.Train(corpus.Train, corpus.Validation, options,
                report => update(report.Elapsed / report.Budget, $"{report.Pairs / 1000:N0}k pairs train {report.TrainLoss:F3} nats/symbol, val {Loss(report.ValidationLoss)} best {Loss(report.BestValidationLoss)} nats/char"),
                (best, _) => best.Save(checkpoint), ctrlC.Token, limit));
            TimeSpan trainingTime = clock.Elapsed, processor = Process.GetCurrentProcess().TotalProcessorTime;
            string why = ctrlC.Pressed ? "stopped by Ctrl+C" : result.StoppedEarly ? $"stopped early (no new best in {options.Patience} validations)" : "trained";
            Console.WriteLine($"{why} in {TrainingDisplay.Clock(trainingTime)} ({TrainingDisplay.Clock(processor)} of processor time, loading the catalogs included) on {result.Pairs:N0} pairs ({result.Pairs / (double)corpus.Train.Count:F1} passes), {result.Evaluations} validations; kept the best, {Loss(result.ValidationLoss)} nats/char, in {checkpoint}");
            if (ctrlC.Pressed) return ToolExit.Interrupted;
            bool beats = Evaluate(result.Model, corpus, width, lengthPenalty, options.Threads);
            return parse.GetValue(check) && !beats ? ToolExit.CheckFailed : ToolExit.Ok;
        }));
        return command;
    }

    private static Command CreateRun()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "A checkpoint written by translate train.", Required = true };
        var beam = new Option<int>("--beam") { Description = "Beam width (1: greedy).", DefaultValueFactory = _ => 5 };
        var penalty = new Option<double>("--length-penalty") { Description = "Beam search ranks finished translations by log-probability / length^this.", DefaultValueFactory = _ => 1 };
        var texts = new Argument<string[]>("text") { Description = "Sentences to translate (none: one per line from standard input).", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("run", "Translate sentences with a trained model, one per line.") { model, beam, penalty, texts };
        command.SetAction(parse => ToolExit.Run("translate run", () =>
        {
            int width = parse.GetValue(beam);
            double lengthPenalty = parse.GetValue(penalty);
            CheckDecoding(width, lengthPenalty);
            SubwordTranslator translator = SubwordTranslator.Load(parse.GetValue(model)!.FullName);
            IEnumerable<string> lines = parse.GetValue(texts) is { Length: > 0 } given ? given : ReadLines(Console.In);
            foreach (string line in lines) Console.WriteLine(translator.Translate(line, width, lengthPenalty));
            return ToolExit.Ok;
        }));
        return command;
    }

    private static IEnumerable<string> ReadLines(TextReader reader)
    {
        while (reader.ReadLine() is { } line) yield return line;
    }

    private static void CheckDecoding(int width, double lengthPenalty)
    {
        if (width is < 1 or > 64) throw new ArgumentException($"--beam must be in [1, 64]; got {width}.");
        if (!(lengthPenalty >= 0 && double.IsFinite(lengthPenalty))) throw new ArgumentException($"--length-penalty must be 0 or more; got {lengthPenalty.ToString(CultureInfo.InvariantCulture)}.");
    }

    /// <summary>Scores the model (greedy and beam) and both baselines on the test part; returns whether the model's best chrF beats both baselines'.</summary>
    private static bool Evaluate(SubwordTranslator model, TranslationCorpus corpus, int width, double lengthPenalty, int threads)
    {
        string[] references = [.. corpus.Test.Select(p => p.Target)];
        WordLookupBaseline lookup = WordLookupBaseline.Learn(corpus.Train);
        var rows = new List<(string Name, string[] Output, TimeSpan Time)>();
        void Add(string name, Func<string, string> translate)
        {
            var clock = Stopwatch.StartNew();
            // Sentences are independent: several threads, results in the test part's order.
            rows.Add((name, [.. corpus.Test.AsParallel().AsOrdered().WithDegreeOfParallelism(threads).Select(p => translate(p.Source))], clock.Elapsed));
        }

        Add("copy the source", s => s);
        Add($"word-by-word lookup ({lookup.Count:N0} words)", lookup.Translate);
        Add("LSTM, greedy", s => model.Translate(s));
        if (width > 1) Add($"LSTM, beam {width} (length penalty {lengthPenalty.ToString(CultureInfo.InvariantCulture)})", s => model.Translate(s, width, lengthPenalty));
        var table = new Table().Border(TableBorder.Rounded).AddColumn("method").AddColumn(new TableColumn("chrF").RightAligned()).AddColumn(new TableColumn("BLEU").RightAligned())
            .AddColumn(new TableColumn("exact").RightAligned()).AddColumn(new TableColumn("time").RightAligned());
        var chrF = new List<double>();
        foreach ((string name, string[] output, TimeSpan time) in rows)
        {
            double c = TranslationMetrics.ChrF(output, references), b = TranslationMetrics.Bleu(output, references);
            double exact = output.Zip(references).Count(x => x.First == x.Second) / (double)references.Length;
            chrF.Add(c);
            table.AddRow(Markup.Escape(name), c.ToString("F1", CultureInfo.InvariantCulture), b.ToString("F1", CultureInfo.InvariantCulture),
                (100 * exact).ToString("F1", CultureInfo.InvariantCulture) + " %", time.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s");
        }

        Console.WriteLine($"test: {references.Length:N0} held-out pairs; chrF (β=2, character 1- to 6-grams) and BLEU-4 (whitespace tokens, no smoothing), corpus-level, 0–100");
        AnsiConsole.Write(table);
        string[] best = rows[^1].Output;
        int shown = Math.Min(12, references.Length), every = references.Length / shown;
        Console.WriteLine("examples (source → model | reference):");
        for (int i = 0; i < shown; i++)
            Console.WriteLine($"  {corpus.Test[i * every].Source} → {best[i * every]} | {references[i * every]}");
        double lstm = chrF.Skip(2).Max(), baseline = Math.Max(chrF[0], chrF[1]);
        Console.WriteLine(lstm > baseline ? $"the LSTM beats both baselines on chrF by {lstm - baseline:F1} points" : $"the LSTM does NOT beat the better baseline on chrF ({lstm:F1} against {baseline:F1})");
        return lstm > baseline;
    }

    private static string Loss(double loss) => double.IsNaN(loss) ? "…" : loss.ToString("F3", CultureInfo.InvariantCulture);
}
