using LstmSimd.Tests.Text;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary>translate train and run as users run them, on small catalogs built in the test.</summary>
public sealed class TranslateCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-translate-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Cli(params string[] args) => ToolCli.Run(_dir, args);

    private string Catalogs()
    {
        string folder = Path.Combine(_dir, "catalogs");
        Directory.CreateDirectory(folder);
        string[] words = ["open", "save", "close", "print", "file", "folder", "window", "help", "edit", "view"];
        string[] german = ["öffnen", "speichern", "schließen", "drucken", "Datei", "Ordner", "Fenster", "Hilfe", "bearbeiten", "ansehen"];
        var entries = new List<(string, string)> { ("", MoBytes.Header) };
        for (int i = 0; i < words.Length; i++)
            for (int j = 0; j < words.Length; j++)
                entries.Add(($"{words[i]} {words[j]}", $"{german[i]} {german[j]}"));
        File.WriteAllBytes(Path.Combine(folder, "app.mo"), MoBytes.Build([.. entries.OrderBy(e => e.Item1, StringComparer.Ordinal)]));
        File.WriteAllBytes(Path.Combine(folder, "broken.mo"), [0xde, 0x12, 0x04, 0x95, 0, 0, 0, 0]);
        return folder;
    }

    [Fact]
    public void Translate_trains_reports_the_baselines_and_runs_the_checkpoint()
    {
        var (code, stdout, stderr) = Cli("translate", "train", "--catalogs", Catalogs(), "--minutes", "0.1", "--merges", "50", "--embedding", "8", "--hidden", "16", "--batch", "8", "--beam", "2");
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("skipped " + Path.Combine(_dir, "catalogs", "broken.mo") + ": 8 bytes is too short", stdout, StringComparison.Ordinal);
        Assert.Contains("101 entries; 100 distinct messages", stdout, StringComparison.Ordinal);
        Assert.Contains("copy the source", stdout, StringComparison.Ordinal);
        Assert.Contains("word-by-word lookup", stdout, StringComparison.Ordinal);
        Assert.Contains("LSTM, beam 2", stdout, StringComparison.Ordinal);
        Assert.Contains("byte-pair encoding of the training pairs (50 merges)", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "translator.lstm")));
        (code, stdout, stderr) = Cli("translate", "run", "-m", "translator.lstm", "--beam", "3", "open file", "help");
        Assert.True(code == 0, stderr);
        Assert.Equal(2, stdout.TrimEnd('\n').Split('\n').Length);
    }

    [Fact]
    public void Translate_refuses_bad_input_in_one_line()
    {
        ToolCommandTests.AssertOneLineOfBadInput(Cli("translate", "train", "--catalogs", Path.Combine(_dir, "none")), "no such folder");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("translate", "train", "--catalogs", _dir), "holds no .mo catalogs");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("translate", "train", "--catalogs", Catalogs(), "--beam", "0"), "--beam must be in [1, 64]");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("translate", "train", "--catalogs", Catalogs(), "--hidden", "15"), "--hidden must be even");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("translate", "train", "--catalogs", Catalogs(), "--merges", "-1"), "--merges must be 0 or more");
        File.WriteAllText(Path.Combine(_dir, "x.lstm"), "not a model");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("translate", "run", "-m", "x.lstm", "hello"), "x.lstm");
    }
}
