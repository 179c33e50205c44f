using System.CommandLine;
using System.Globalization;
using LstmSimd.Cli.Tool;
using LstmSimd.Text;
using Spectre.Console;

namespace LstmSimd.Cli.Commands;

/// <summary><c>lstmsimd classify train|evaluate|predict</c>: text classification with an embedding and a (bi)LSTM, beside bag-of-words baselines.</summary>
internal static class ClassifyCommand
{
    private static readonly double[] Lambdas = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1];

    public static Command Create() => new("classify", "Classify texts (spam, sentiment, topics) with an embedding and a (bi)LSTM; compares it with naive Bayes and TF-IDF logistic regression on the same tokens.")
    {
        CreateTrain(), CreateEvaluate(), CreatePredict(), CreateImport(),
    };

    private static Option<string> TextColumn() => new("--text-column") { Description = "The CSV column holding the texts.", DefaultValueFactory = _ => "text" };

    private static Option<string> LabelColumn() => new("--label-column") { Description = "The CSV column holding the classes.", DefaultValueFactory = _ => "label" };

    private static Command CreateTrain()
    {
        var data = new Option<FileInfo>("--data") { Description = "Training texts: a CSV file (a header row; a text and a label column) or a folder with one subfolder of text files per class.", Required = true };
        var test = new Option<FileInfo?>("--test") { Description = "Test texts, in the same form, used only for the final report (default: --test-share of --data, held out at random per class)." };
        var testShare = new Option<double>("--test-share") { Description = "Share of --data held out for testing when --test is not given.", DefaultValueFactory = _ => 0.2 };
        var validation = new Option<double>("--validation") { Description = "Share of the training texts held out (per class, at random) to pick the best epoch and stop early.", DefaultValueFactory = _ => 0.1 };
        var textColumn = TextColumn();
        var labelColumn = LabelColumn();
        var tokens = new Option<TokenKind?>("--tokens") { Description = "Words or Characters (default: characters for texts mostly in scripts written without spaces, such as Chinese or Japanese; words otherwise)." };
        var keepCase = new Option<bool>("--keep-case") { Description = "Do not lower-case the texts." };
        var minFrequency = new Option<int?>("--min-frequency") { Description = "Tokens seen fewer times in the training texts read as unknown (default: 1 for under 100,000 training tokens, else 2)." };
        var maxVocabulary = new Option<int>("--max-vocabulary") { Description = "Keep at most this many tokens, the most frequent.", DefaultValueFactory = _ => 30_000 };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Read each text up to its first this many tokens (default: the length that holds 95% of the training texts whole, between 16 and 1000)." };
        var embedding = new Option<int>("--embedding") { Description = "Embedding dimension.", DefaultValueFactory = _ => 64 };
        var hidden = new Option<int>("--hidden") { Description = "LSTM hidden units per direction.", DefaultValueFactory = _ => 64 };
        var layers = new Option<int>("--layers") { Description = "Stacked LSTM layers.", DefaultValueFactory = _ => 1 };
        var oneWay = new Option<bool>("--unidirectional") { Description = "Read each text forward only (default: both ways)." };
        var pooling = new Option<SequencePooling>("--pooling") { Description = "How the LSTM's outputs over a text become one vector: LastStep, Mean or Max.", DefaultValueFactory = _ => SequencePooling.Max };
        var weighting = new Option<ClassWeighting>("--class-weights") { Description = "Balanced (each class weighs alike in the loss, for imbalanced data) or None.", DefaultValueFactory = _ => ClassWeighting.Balanced };
        var epochs = new Option<int?>("--epochs") { Description = "Most passes over the training texts (default: 20, or more to make 400 training steps on small data)." };
        var patience = new Option<int?>("--patience") { Description = "Stop after this many epochs without a better validation macro-F1 (default: a tenth of the epochs, at least 4)." };
        var batch = new Option<int>("--batch") { Description = "Texts per training step.", DefaultValueFactory = _ => 32 };
        var rate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 2e-3 };
        var minutes = new Option<double>("--minutes") { Description = "Training time budget in minutes.", DefaultValueFactory = _ => 30 };
        var threads = new Option<int>("--threads") { Description = "Threads per LSTM pass.", DefaultValueFactory = _ => 1 };
        var seed = new Option<int>("--seed") { Description = "Seed for the splits, the weights and the batch order.", DefaultValueFactory = _ => 1 };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The model file to write (rewritten at each better validation macro-F1).", DefaultValueFactory = _ => new FileInfo("classifier.lstm") };
        var check = new Option<bool>("--check") { Description = "Exit with code 1 unless the LSTM's test macro-F1 is at least that of the better logistic regression (words, or words and word pairs)." };
        var command = new Command("train", "Train a text classifier; keeps the best-validation model and prints test accuracy, macro-F1 and confusion matrices beside naive Bayes and TF-IDF logistic regression. Ctrl+C stops and keeps the best model so far (exit code 130).")
        {
            data, test, testShare, validation, textColumn, labelColumn, tokens, keepCase, minFrequency, maxVocabulary, maxTokens, embedding, hidden, layers, oneWay,
            pooling, weighting, epochs, patience, batch, rate, minutes, threads, seed, output, check,
        };
        command.SetAction(parse => ToolExit.Run("classify train", () =>
        {
            string dataPath = parse.GetValue(data)!.FullName, checkpoint = parse.GetValue(output)!.FullName;
            string? testPath = parse.GetValue(test)?.FullName;
            OutputPaths.RefuseClashes([("--data", dataPath), ("--test", testPath)], [("--output", checkpoint)]);
            string directory = Path.GetDirectoryName(checkpoint)!;
            if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"The directory of --output, {directory}, does not exist.");
            double validationShare = parse.GetValue(validation), share = parse.GetValue(testShare);
            if (!(validationShare is > 0 and < 0.5)) throw new ArgumentException($"--validation must be between 0 and 0.5; got {validationShare}.");
            if (testPath is null && !(share is > 0 and < 0.5)) throw new ArgumentException($"--test-share must be between 0 and 0.5; got {share}.");
            if (!(parse.GetValue(minutes) > 0)) throw new ArgumentException("--minutes must be positive.");
            int seedValue = parse.GetValue(seed);
            var defaults = new ClassifierOptions();
            var options = new ClassifierOptions
            {
                Tokens = parse.GetValue(tokens) ?? defaults.Tokens, Lowercase = !parse.GetValue(keepCase), MinFrequency = parse.GetValue(minFrequency) ?? defaults.MinFrequency,
                MaxVocabulary = parse.GetValue(maxVocabulary), MaxTokens = parse.GetValue(maxTokens) ?? defaults.MaxTokens, EmbeddingSize = parse.GetValue(embedding),
                HiddenSize = parse.GetValue(hidden), Layers = parse.GetValue(layers), Bidirectional = !parse.GetValue(oneWay), Pooling = parse.GetValue(pooling),
                Weighting = parse.GetValue(weighting), MaxEpochs = parse.GetValue(epochs) ?? defaults.MaxEpochs, Patience = parse.GetValue(patience) ?? defaults.Patience,
                BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(rate), TimeBudget = TimeSpan.FromMinutes(parse.GetValue(minutes)),
                Threads = parse.GetValue(threads), Seed = seedValue,
            };
            options.Validate();
            ClassifierSetting chosen = (parse.GetValue(tokens) is null ? 0 : ClassifierSetting.Tokens) | (parse.GetValue(maxTokens) is null ? 0 : ClassifierSetting.MaxTokens)
                | (parse.GetValue(minFrequency) is null ? 0 : ClassifierSetting.MinFrequency) | (parse.GetValue(epochs) is null ? 0 : ClassifierSetting.Epochs)
                | (parse.GetValue(patience) is null ? 0 : ClassifierSetting.Patience);
            if (options.Threads is < 1 or > 64) throw new ArgumentException("--threads must be in [1, 64].");

            string textName = parse.GetValue(textColumn)!, labelName = parse.GetValue(labelColumn)!;
            List<LabelledText> all = LabelledTextSource.Load(dataPath, textName, labelName);
            (List<LabelledText> pool, List<LabelledText> testTexts) = testPath is null ? LabelledTextSource.Split(all, share, seedValue) : (all, LabelledTextSource.Load(testPath, textName, labelName));
            (List<LabelledText> train, List<LabelledText> held) = LabelledTextSource.Split(pool, validationShare, seedValue + 1);
            options = ClassifierDefaults.FitTo(options, train, chosen);
            Console.WriteLine($"data: {dataPath}, {all.Count:N0} texts in {Describe(all)}");
            Console.WriteLine($"split: train {train.Count:N0}, validation {held.Count:N0}, test {testTexts.Count:N0} ({(testPath is null ? $"{share:P0} of --data, never used for training or choices" : testPath)})");
            Console.WriteLine($"model: {options.Tokens.ToString().ToLowerInvariant()} (≤ {options.MaxTokens} per text, seen ≥ {options.MinFrequency}×) → embedding {options.EmbeddingSize} → {(options.Bidirectional ? "bidirectional " : "")}LSTM {options.HiddenSize}{(options.Layers > 1 ? $" ×{options.Layers}" : "")} → {options.Pooling.ToString().ToLowerInvariant()} pooling → head; {options.Weighting.ToString().ToLowerInvariant()} class weights; Adam lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {options.BatchSize}, ≤ {options.MaxEpochs} epochs (patience {options.Patience})");

            using var ctrlC = new CtrlC();
            int saved = 0;
            ClassifierTrainingResult result = TrainingDisplay.Run("classify", mayStopEarly: true, update => ClassifierTraining.Train(train, held, options,
                report => update((double)report.Epoch / report.MaxEpochs,
                    $"epoch {report.Epoch}/{report.MaxEpochs} loss {report.TrainLoss:F4} val macro-F1 {report.Validation.MacroF1:F4}{(report.Improved ? " *" : "")}"),
                best =>
                {
                    best.Save(checkpoint);
                    saved++;
                },
                ctrlC.Token));
            if (ctrlC.Pressed)
            {
                Console.WriteLine(saved > 0
                    ? $"stopped by Ctrl+C after {result.Epochs} epochs; {checkpoint} holds the best so far (epoch {result.BestEpoch}, validation macro-F1 {result.BestValidation.MacroF1:F4})"
                    : "stopped by Ctrl+C before the first epoch ended; no model written");
                return ToolExit.Interrupted;
            }

            Console.WriteLine($"{result.StopReason}; best epoch {result.BestEpoch} of {result.Epochs} (validation macro-F1 {result.BestValidation.MacroF1:F4}); saved {checkpoint}");
            bool beats = Compare(result.Classifier, train, held, testTexts);
            return parse.GetValue(check) && !beats ? ToolExit.CheckFailed : ToolExit.Ok;
        }));
        return command;
    }

    private static Option<FileInfo[]> Models() => new("--model", "-m")
    {
        Description = "A model file written by classify train or import; repeat it to average several models' probabilities (an ensemble, e.g. of seeds).",
        Required = true, AllowMultipleArgumentsPerToken = false,
    };

    private static ClassifierEnsemble LoadModels(FileInfo[] files) => new([.. files.Select(f => SequenceClassifier.Load(f.FullName))]);

    private static Command CreateEvaluate()
    {
        var model = Models();
        var data = new Option<FileInfo>("--data") { Description = "Labelled texts: a CSV file or a folder with one subfolder per class.", Required = true };
        var textColumn = TextColumn();
        var labelColumn = LabelColumn();
        var command = new Command("evaluate", "Score a classifier on labelled texts: accuracy, macro-F1 and the confusion matrix.") { model, data, textColumn, labelColumn };
        command.SetAction(parse => ToolExit.Run("classify evaluate", () =>
        {
            ClassifierEnsemble models = LoadModels(parse.GetValue(model)!);
            List<LabelledText> texts = LabelledTextSource.Load(parse.GetValue(data)!.FullName, parse.GetValue(textColumn)!, parse.GetValue(labelColumn)!);
            Console.WriteLine($"{texts.Count:N0} texts in {Describe(texts)}");
            ClassificationMetrics metrics = models.Evaluate(texts);
            PrintScores(models.Labels, [(models.Count == 1 ? "LSTM" : $"LSTM, mean of {models.Count} models", metrics)]);
            return ToolExit.Ok;
        }));
        return command;
    }

    private static Command CreatePredict()
    {
        var model = Models();
        var data = new Option<FileInfo?>("--data") { Description = "Texts to classify: a CSV file with a text column (labels not needed) or a folder of text files per class." };
        var text = new Option<string[]>("--text") { Description = "A text to classify (may be repeated).", AllowMultipleArgumentsPerToken = false };
        var textColumn = TextColumn();
        var command = new Command("predict", "Classify texts: prints each text's most probable class and its probability, tab-separated.") { model, data, text, textColumn };
        command.SetAction(parse => ToolExit.Run("classify predict", () =>
        {
            string[] given = parse.GetValue(text) ?? [];
            FileInfo? file = parse.GetValue(data);
            if (given.Length == 0 && file is null) throw new ArgumentException("Give the texts with --text or --data.");
            ClassifierEnsemble classifier = LoadModels(parse.GetValue(model)!);
            List<string> texts = [.. given];
            if (file is not null)
            {
                texts.AddRange((Directory.Exists(file.FullName) ? LabelledTextSource.FromFolders(file.FullName) : LabelledTextSource.FromCsv(file.FullName, parse.GetValue(textColumn)!, null))
                    .Select(e => e.Text));
            }

            float[][] probabilities = classifier.Probabilities(texts);
            Console.WriteLine("class\tprobability\ttext");
            for (int i = 0; i < texts.Count; i++)
            {
                int best = Array.IndexOf(probabilities[i], probabilities[i].Max());
                Console.WriteLine($"{classifier.Labels[best]}\t{probabilities[i][best].ToString("F4", CultureInfo.InvariantCulture)}\t{UserText.Printable(texts[i])}");
            }

            return ToolExit.Ok;
        }));
        return command;
    }

    /// <summary>
    /// <c>classify import</c>: a classifier trained elsewhere (a PyTorch state_dict, ONNX, Keras or TensorFlow.js file) joined
    /// to the vocabulary it was trained with, written as a model file that predict, evaluate and train read.
    /// </summary>
    private static Command CreateImport()
    {
        var source = new Option<FileInfo>("--from") { Description = "The trained classifier: a PyTorch state_dict (.pt, .pth, .safetensors: nn.Embedding → nn.LSTM → nn.Linear), an ONNX model (.onnx), a Keras model (.keras, .h5) or a TensorFlow.js model.json.", Required = true };
        var vocabularyFile = new Option<FileInfo>("--vocabulary") { Description = "A UTF-8 text file with one token per line, line n (from 0) the token of id n; lines 0 and 1 are the padding and unknown ids (their text is not read).", Required = true };
        var labels = new Option<string>("--labels") { Description = "The class names, comma-separated, in the order of the model's outputs.", Required = true };
        var tokens = new Option<TokenKind>("--tokens") { Description = "How the model's texts were cut: Words or Characters.", DefaultValueFactory = _ => TokenKind.Words };
        var keepCase = new Option<bool>("--keep-case") { Description = "The model's texts were not lower-cased." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Read each text up to its first this many tokens.", DefaultValueFactory = _ => 300 };
        var pooling = new Option<SequencePooling>("--pooling") { Description = "PyTorch only (a state_dict does not record it): what the model's forward does with the LSTM's outputs: LastStep, Mean or Max.", DefaultValueFactory = _ => SequencePooling.LastStep };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The model file to write.", Required = true };
        var command = new Command("import", "Turn a text classifier trained with PyTorch, ONNX, Keras or TensorFlow.js into a model file for classify predict, evaluate and train; the padding id must be 0 and the unknown token's id 1.")
        {
            source, vocabularyFile, labels, tokens, keepCase, maxTokens, pooling, output,
        };
        command.SetAction(parse => ToolExit.Run("classify import", () =>
        {
            string from = parse.GetValue(source)!.FullName, vocabularyPath = parse.GetValue(vocabularyFile)!.FullName, target = parse.GetValue(output)!.FullName;
            OutputPaths.RefuseClashes([("--from", from), ("--vocabulary", vocabularyPath)], [("--output", target)]);
            if (!File.Exists(from) && !Directory.Exists(from)) throw new FileNotFoundException($"--from: {from} does not exist.", from);
            string[] names = [.. parse.GetValue(labels)!.Split(',', StringSplitOptions.TrimEntries)];
            if (names.Any(n => n.Length == 0)) throw new ArgumentException("--labels holds an empty class name.");
            string extension = Path.GetExtension(from).ToLowerInvariant();
            ImportedClassifier imported = extension switch
            {
                ".onnx" => ImportedClassifier.FromOnnx(from, TokenVocabulary.PaddingId),
                ".keras" or ".h5" or ".hdf5" or ".json" => LstmSimd.Keras.KerasTextClassifier.Load(from),
                _ => ImportedClassifier.FromPyTorch(from, parse.GetValue(pooling), TokenVocabulary.PaddingId),
            };
            string[] lines = UserText.ReadUtf8File(vocabularyPath, problem => new FormatException($"{vocabularyPath}, {problem}")).ReplaceLineEndings("\n").Split('\n');
            if (lines.Length > 0 && lines[^1].Length == 0) lines = lines[..^1]; // the file's last line break
            if (lines.Length < 2) throw new FormatException($"{vocabularyPath} holds {lines.Length} lines; a vocabulary's first two lines are the padding and unknown ids.");
            TokenVocabulary vocabulary = new(lines[2..]);
            int length = parse.GetValue(maxTokens);
            if (length < 1) throw new ArgumentException($"--max-tokens must be positive; got {length}.");
            SequenceClassifier classifier = imported.ToClassifier(new TextTokenizer(parse.GetValue(tokens), !parse.GetValue(keepCase)), vocabulary, names, length);
            classifier.Save(target);
            Console.WriteLine($"read {imported.Description}");
            Console.WriteLine($"wrote {target}: {vocabulary.Count:N0} tokens, classes {UserText.QuoteList(names)}");
            return ToolExit.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Prints the LSTM's test scores beside naive Bayes and TF-IDF logistic regression fitted on the same training tokens,
    /// the latter on words alone and on words and word pairs (each one's λ picked on the validation texts); returns
    /// whether the LSTM's macro-F1 is at least that of the better logistic regression on the test texts.
    /// </summary>
    internal static bool Compare(SequenceClassifier classifier, IReadOnlyList<LabelledText> train, IReadOnlyList<LabelledText> validation, IReadOnlyList<LabelledText> test)
    {
        IReadOnlyList<string> labels = classifier.Labels;
        int classes = labels.Count, features = classifier.Vocabulary.Count;
        int[][] Encode(IReadOnlyList<LabelledText> texts) => [.. texts.Select(e => classifier.Encode(e.Text))];
        int[] Labels(IReadOnlyList<LabelledText> texts) => [.. texts.Select(e => ClassifierTraining.LabelIndex(labels, e.Label))];
        int[][] trainIds = Encode(train), validationIds = Encode(validation), testIds = Encode(test);
        int[] trainLabels = Labels(train), validationLabels = Labels(validation), testLabels = Labels(test);

        ClassificationMetrics lstm = ClassifierTraining.Evaluate(classifier, test);
        NaiveBayesClassifier nb = NaiveBayesClassifier.Fit(trainIds, trainLabels, classes, features);
        ClassificationMetrics bayes = ClassificationMetrics.From(testLabels, nb.Predict(testIds), classes);
        (ClassificationMetrics words, double wordsLambda) = Logistic(trainIds, validationIds, testIds, features);
        BigramFeatures pairs = BigramFeatures.Build(trainIds, features);
        int[][] Pairs(int[][] ids) => [.. ids.Select(pairs.Extend)];
        (ClassificationMetrics withPairs, double pairsLambda) = Logistic(Pairs(trainIds), Pairs(validationIds), Pairs(testIds), pairs.Features);
        Console.WriteLine($"test: {test.Count:N0} texts; logistic regression's λ = {wordsLambda.ToString(CultureInfo.InvariantCulture)} on words, "
            + $"{pairsLambda.ToString(CultureInfo.InvariantCulture)} on words and {pairs.Features - features:N0} word pairs (picked on validation macro-F1)");
        PrintScores(labels, [("naive Bayes (Laplace)", bayes), ("logistic regression (TF-IDF words, L2)", words), ("logistic regression (TF-IDF words + pairs, L2)", withPairs), ("LSTM", lstm)]);
        double strongest = Math.Max(words.MacroF1, withPairs.MacroF1);
        bool beats = lstm.MacroF1 >= strongest;
        Console.WriteLine(beats
            ? $"the LSTM's macro-F1 is {lstm.MacroF1 - strongest:+0.0000;-0.0000;0} against the better logistic regression's"
            : $"the LSTM does NOT reach the better logistic regression's macro-F1 ({lstm.MacroF1:F4} < {strongest:F4})");
        return beats;

        (ClassificationMetrics Test, double Lambda) Logistic(int[][] trainX, int[][] validationX, int[][] testX, int featureCount)
        {
            (TfidfLogisticRegression Model, double Lambda, double MacroF1) best = default;
            foreach (double lambda in Lambdas)
            {
                TfidfLogisticRegression candidate = TfidfLogisticRegression.Fit(trainX, trainLabels, classes, featureCount, lambda);
                double f1 = ClassificationMetrics.From(validationLabels, candidate.Predict(validationX), classes).MacroF1;
                if (best.Model is null || f1 > best.MacroF1) best = (candidate, lambda, f1);
            }

            return (ClassificationMetrics.From(testLabels, best.Model!.Predict(testX), classes), best.Lambda);
        }
    }

    private static void PrintScores(IReadOnlyList<string> labels, IReadOnlyList<(string Name, ClassificationMetrics Metrics)> models)
    {
        var scores = new Table().Border(TableBorder.Rounded).AddColumn("model").AddColumn(new TableColumn("accuracy").RightAligned()).AddColumn(new TableColumn("macro-F1").RightAligned());
        foreach ((string name, ClassificationMetrics m) in models)
            scores.AddRow(Markup.Escape(name), m.Accuracy.ToString("F4", CultureInfo.InvariantCulture), m.MacroF1.ToString("F4", CultureInfo.InvariantCulture));
        AnsiConsole.Write(scores);
        foreach ((string name, ClassificationMetrics m) in models)
        {
            Console.WriteLine($"{name}, confusion matrix (rows: true class, columns: predicted):");
            var confusion = new Table().Border(TableBorder.Simple).AddColumn("");
            foreach (string label in labels) confusion.AddColumn(new TableColumn(Markup.Escape(label)).RightAligned());
            for (int t = 0; t < labels.Count; t++)
            {
                string[] cells = [Markup.Escape(labels[t]), .. Enumerable.Range(0, labels.Count).Select(p => m.Confusion[t, p].ToString(CultureInfo.InvariantCulture))];
                confusion.AddRow(cells);
            }

            AnsiConsole.Write(confusion);
        }
    }

    private static string Describe(IReadOnlyList<LabelledText> texts) =>
        string.Join(", ", texts.GroupBy(e => e.Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{UserText.Quote(g.Key)} {g.Count():N0}"));
}
