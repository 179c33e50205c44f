using System.Text;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary>classify train, evaluate and predict as users run them: exit codes, messages, files.</summary>
public sealed class ClassifyCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-classify-tool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Cli(params string[] args) => ToolCli.Run(_dir, args);

    /// <summary>A CSV of short reviews whose class is set by one of a few sentiment words among filler.</summary>
    private string Reviews(string name, int rows, int seed)
    {
        var random = new Random(seed);
        string[] good = ["great", "loved", "wonderful", "superb"], bad = ["awful", "boring", "terrible", "dull"], filler = ["the", "film", "plot", "was", "a", "and", "actors", "story"];
        var csv = new StringBuilder("id,text,label\n");
        for (int i = 0; i < rows; i++)
        {
            bool positive = random.Next(2) == 0;
            var words = Enumerable.Range(0, 3 + random.Next(6)).Select(_ => filler[random.Next(filler.Length)]).ToList();
            words.Insert(random.Next(words.Count + 1), (positive ? good : bad)[random.Next(4)]);
            csv.Append(i).Append(",\"").Append(string.Join(' ', words)).Append("\",").Append(positive ? "pos" : "neg").Append('\n');
        }

        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    [Theory]
    [InlineData("train")]
    [InlineData("evaluate")]
    [InlineData("predict")]
    [InlineData("import")]
    public void Every_classify_command_has_help_under_the_tool_name(string command)
    {
        var (code, stdout, _) = Cli("classify", command, "--help");
        Assert.Equal(0, code);
        Assert.Contains($"lstmsimd classify {command}", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_evaluate_and_predict_run_end_to_end_beside_the_baselines()
    {
        string train = Reviews("train.csv", 300, 1), test = Reviews("test.csv", 100, 2);
        var (code, stdout, stderr) = Cli("classify", "train", "--data", train, "--test", test, "--embedding", "8", "--hidden", "8", "--epochs", "8",
            "--lr", "0.01", "--min-frequency", "1", "-o", "reviews.lstm", "--check");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("naive Bayes (Laplace)", stdout, StringComparison.Ordinal);
        Assert.Contains("logistic regression (TF-IDF words, L2)", stdout, StringComparison.Ordinal);
        Assert.Contains("logistic regression (TF-IDF words + pairs, L2)", stdout, StringComparison.Ordinal);
        Assert.Contains("confusion matrix", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "reviews.lstm")));

        (code, stdout, stderr) = Cli("classify", "evaluate", "-m", "reviews.lstm", "--data", test);
        Assert.True(code == 0, stderr);
        Assert.Contains("macro-F1", stdout, StringComparison.Ordinal);

        (code, stdout, stderr) = Cli("classify", "predict", "-m", "reviews.lstm", "--text", "a wonderful film", "--text", "the plot was awful");
        Assert.True(code == 0, stderr);
        string[] lines = stdout.TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("pos\t", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("neg\t", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void A_small_hand_written_review_csv_trains_well_with_the_default_settings()
    {
        // 40 reviews written for this test (20 each way) and 10 others to test on; no setting but the columns and the output.
        string folder = Path.Combine(AppContext.BaseDirectory, "Golden", "hand-made-reviews");
        string[] columns = ["--text-column", "review", "--label-column", "sentiment"];
        var (code, stdout, stderr) = Cli(["classify", "train", "--data", Path.Combine(folder, "train.csv"), "--test", Path.Combine(folder, "test.csv"), .. columns, "-o", "reviews.lstm"]);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("words (≤ ", stdout, StringComparison.Ordinal);
        Assert.Contains("seen ≥ 1×", stdout, StringComparison.Ordinal);   // a word seen once in 36 reviews still counts
        Assert.Contains("≤ 200 epochs", stdout, StringComparison.Ordinal);   // 2 batches an epoch: 400 steps

        (code, stdout, stderr) = Cli(["classify", "evaluate", "-m", "reviews.lstm", "--data", Path.Combine(folder, "test.csv"), .. columns]);
        Assert.True(code == 0, stderr);
        string row = stdout.Split('\n').Single(line => line.Contains("│ LSTM", StringComparison.Ordinal));
        double accuracy = double.Parse(row.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(accuracy >= 0.9, stdout);

        (code, stdout, stderr) = Cli("classify", "predict", "-m", "reviews.lstm", "--text", "A brilliant story, I loved the cast.", "--text", "Boring and stupid, I hated the ending.");
        Assert.True(code == 0, stderr);
        string[] lines = stdout.TrimEnd().Split('\n');
        Assert.StartsWith("positive\t", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("negative\t", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Import_joins_a_pytorch_classifier_to_its_vocabulary_and_predict_gives_pytorchs_probabilities()
    {
        // Golden/classifier-import: a 17-id, 3-class PyTorch classifier and PyTorch's probabilities for texts of ids; the
        // vocabulary names id n "wn", so the words "w15 w12 w9 w14" are the ids 15 12 9 14.
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden", "classifier-import");
        File.WriteAllLines(Path.Combine(_dir, "vocabulary.txt"), ["<pad>", "<unk>", .. Enumerable.Range(2, 15).Select(id => "w" + id)]);
        var (code, stdout, stderr) = Cli("classify", "import", "--from", Path.Combine(golden, "torch_bidirectional_max.pt"), "--vocabulary", "vocabulary.txt",
            "--labels", "a, b, c", "--pooling", "Max", "-o", "imported.lstm");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("PyTorch state_dict", stdout, StringComparison.Ordinal);

        using var expected = LstmSimd.IO.SafetensorsFile.Open(Path.Combine(golden, "torch_bidirectional_max.expected.safetensors"));
        long[] ids = expected.ReadInt64s("ids"), lengths = expected.ReadInt64s("lengths");
        double[] probabilities = expected.ReadDoubles("probabilities");
        var texts = new List<(string Text, double[] Probabilities)>();
        for (int i = 0, start = 0; i < lengths.Length; start += (int)lengths[i], i++)
        {
            long[] text = ids[start..(start + (int)lengths[i])];
            if (text.All(id => id >= 2)) texts.Add((string.Join(' ', text.Select(id => "w" + id)), probabilities[(3 * i)..(3 * i + 3)]));
        }

        Assert.True(texts.Count >= 2);
        (code, stdout, stderr) = Cli(["classify", "predict", "-m", "imported.lstm", .. texts.SelectMany(t => new[] { "--text", t.Text })]);
        Assert.True(code == 0, stderr);
        string[] lines = stdout.TrimEnd().Split('\n');
        for (int i = 0; i < texts.Count; i++)
        {
            int best = Array.IndexOf(texts[i].Probabilities, texts[i].Probabilities.Max());
            Assert.StartsWith($"{"abc"[best]}\t{texts[i].Probabilities[best].ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}\t", lines[i + 1], StringComparison.Ordinal);
        }

        ToolCommandTests.AssertOneLineOfBadInput(Cli("classify", "import", "--from", Path.Combine(golden, "torch_bidirectional_max.pt"), "--vocabulary", "vocabulary.txt",
            "--labels", "a,b", "-o", "two.lstm"), "3 classes; 2 names");
        File.WriteAllLines(Path.Combine(_dir, "short.txt"), ["<pad>", "<unk>", "w2"]);
        ToolCommandTests.AssertOneLineOfBadInput(Cli("classify", "import", "--from", Path.Combine(golden, "torch_bidirectional_max.pt"), "--vocabulary", "short.txt",
            "--labels", "a,b,c", "-o", "short.lstm"), "the embedding has 17 rows");
        Assert.False(File.Exists(Path.Combine(_dir, "two.lstm")));
    }

    [Fact]
    public void Bad_input_gives_one_clear_line_and_exit_code_2()
    {
        string train = Reviews("train.csv", 20, 3);
        string garbage = Path.Combine(_dir, "garbage.lstm");
        File.WriteAllText(garbage, "not a model");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("classify", "train", "--data", train, "--text-column", "body"), "no column 'body'");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("classify", "train", "--data", train, "-o", train), "refusing to overwrite an input");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("classify", "train", "--data", train, "--hidden", "0"), "HiddenSize must be positive");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("classify", "evaluate", "-m", garbage, "--data", train), "garbage.lstm");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("classify", "predict", "-m", garbage), "--text or --data");
        Directory.CreateDirectory(Path.Combine(_dir, "one", "spam"));
        File.WriteAllText(Path.Combine(_dir, "one", "spam", "a.txt"), "win");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("classify", "train", "--data", Path.Combine(_dir, "one")), "1 class folder");
    }
}
