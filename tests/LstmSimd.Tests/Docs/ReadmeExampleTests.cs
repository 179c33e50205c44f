using System.Reflection;
using System.Text.RegularExpressions;
using LstmSimd.IO;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using LstmSimd.Tests.IO;
using Xunit;

namespace LstmSimd.Tests.Docs;

/// <summary>
/// The README is the package's front page: each of its C# examples is compiled against the library and run, and its
/// performance table must say what the committed results it names say, so neither can drift from the truth.
/// </summary>
public partial class ReadmeExampleTests
{
    private const string ExampleModelFile = "model.pt";

    private static string Readme => File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));

    public static TheoryData<int> Examples => [.. Enumerable.Range(0, CSharpBlock().Matches(Readme).Count)];

    [Fact]
    public void The_readme_has_its_three_examples() => Assert.Equal(3, CSharpBlock().Matches(Readme).Count);

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_readme_example_compiles_and_runs(int index)
    {
        string body = CSharpBlock().Matches(Readme)[index].Groups[1].Value;
        string folder = Directory.CreateTempSubdirectory("lstmsimd-readme-").FullName;
        try
        {
            // The streaming example opens a state_dict saved by torch.save: PyTorch's own file of a module holding an nn.LSTM
            // named lstm and an nn.Linear named fc.
            string modelPath = Path.Combine(folder, ExampleModelFile);
            File.Copy(GoldenRunner.GoldenPath("pytorch-pt", "module_with_head.pt"), modelPath);
            Run(body.Replace($"\"{ExampleModelFile}\"", $"@\"{modelPath}\"", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The README shows some columns of a summary's table; every cell it shows must be that file's cell.</summary>
    [Fact]
    public void The_readme_performance_table_matches_the_committed_results()
    {
        Match marker = TableMarker().Match(Readme);
        Assert.True(marker.Success, "README.md names the results file its table comes from (<!-- table: PATH --> … <!-- /table -->)");
        string resultsPath = Path.Combine(RepositoryRoot(), marker.Groups[1].Value);
        Dictionary<string, Dictionary<string, string>> results = ParseTable(File.ReadAllText(resultsPath));
        Dictionary<string, Dictionary<string, string>> shown = ParseTable(marker.Groups[2].Value);

        Assert.NotEmpty(shown);
        foreach ((string workload, Dictionary<string, string> cells) in shown)
        {
            Assert.True(results.TryGetValue(workload, out Dictionary<string, string>? expected), $"{workload} is not in {marker.Groups[1].Value}");
            foreach ((string column, string value) in cells)
            {
                Assert.True(expected.TryGetValue(column, out string? committed), $"column '{column}' is not in {marker.Groups[1].Value}");
                Assert.True(committed == value, $"{workload}, {column}: the README says '{value}', {marker.Groups[1].Value} says '{committed}'");
            }
        }
    }

    /// <summary>The first markdown table in <paramref name="markdown"/>: workload → column header → cell.</summary>
    private static Dictionary<string, Dictionary<string, string>> ParseTable(string markdown)
    {
        string[] rows = [.. markdown.Split('\n').Select(l => l.Trim()).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|'))];
        var table = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        if (rows.Length < 2) return table;
        string[] headers = Cells(rows[0]);
        foreach (string row in rows.Skip(2))
        {
            string[] cells = Cells(row);
            table[cells[0]] = headers.Zip(cells).Where(p => p.First.Length > 0).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        }

        return table;
    }

    private static string[] Cells(string row) => [.. row.Trim('|').Split('|').Select(c => c.Trim())];

    /// <summary>What a .NET SDK project with ImplicitUsings (the template's default) imports for the README's reader.</summary>
    private const string ImplicitUsings = "using System; using System.Collections.Generic; using System.IO; using System.Linq; using System.Threading; using System.Threading.Tasks;";

    /// <summary>Compiles <paramref name="body"/> (a markdown example: using directives, then statements) against the library and runs it.</summary>
    internal static void Run(string body)
    {
        string[] lines = body.Split('\n');
        string[] usings = [.. lines.Where(l => UsingDirective().IsMatch(l))];
        string statements = string.Join('\n', lines.Where(l => !UsingDirective().IsMatch(l)));
        string source = $"{ImplicitUsings}\n{string.Join('\n', usings)}\npublic static class ReadmeExample {{ public static void Run() {{\n{statements}\n}} }}";

        string runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        MetadataReference[] references =
        [
            .. Directory.GetFiles(runtimeDirectory, "*.dll").Where(IsManaged).Select(f => MetadataReference.CreateFromFile(f)),
            MetadataReference.CreateFromFile(typeof(LstmModel).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(LstmSimd.Forecasting.LstmForecaster).Assembly.Location),
        ];
        CSharpCompilation compilation = CSharpCompilation.Create("ReadmeExample", [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        Assert.True(result.Success, string.Join('\n', result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));

        Assembly assembly = Assembly.Load(image.ToArray());
        try
        {
            assembly.GetType("ReadmeExample")!.GetMethod("Run")!.Invoke(null, null);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    internal static string RepositoryRoot()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "LstmSimd.sln"))) directory = Path.GetDirectoryName(directory);
        return directory ?? throw new InvalidOperationException("LstmSimd.sln not found above the test assembly.");
    }

    private static bool IsManaged(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^using [\w.]+;\s*$")]
    private static partial Regex UsingDirective();

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    internal static partial Regex CSharpBlock();

    [GeneratedRegex(@"<!-- table: (\S+) -->(.*?)<!-- /table -->", RegexOptions.Singleline)]
    private static partial Regex TableMarker();
}
