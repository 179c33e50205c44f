using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LstmSimd.Tests.Docs;

/// <summary>The README's API example is compiled against the library and run, so it cannot drift from the code.</summary>
public partial class ReadmeExampleTests
{
    [Fact]
    public void The_readme_usage_example_compiles_and_runs()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        Match block = CSharpBlock().Match(readme);
        Assert.True(block.Success, "README.md has a ```csharp block");
        string body = block.Groups[1].Value;
        string[] lines = body.Split('\n');
        string[] usings = [.. lines.Where(l => UsingDirective().IsMatch(l))];
        string statements = string.Join('\n', lines.Where(l => !UsingDirective().IsMatch(l)));
        string source = $"{string.Join('\n', usings)}\npublic static class ReadmeExample {{ public static void Run() {{\n{statements}\n}} }}";

        string runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        MetadataReference[] references =
        [
            .. Directory.GetFiles(runtimeDirectory, "*.dll").Where(IsManaged).Select(f => MetadataReference.CreateFromFile(f)),
            MetadataReference.CreateFromFile(typeof(LstmModel).Assembly.Location),
        ];
        CSharpCompilation compilation = CSharpCompilation.Create("ReadmeExample", [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        Assert.True(result.Success, string.Join('\n', result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));

        Assembly assembly = Assembly.Load(image.ToArray());
        assembly.GetType("ReadmeExample")!.GetMethod("Run")!.Invoke(null, null);
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
    private static partial Regex CSharpBlock();
}
