using Xunit;

namespace LstmSimd.Tests.Docs;

/// <summary>Every C# example of docs/streaming.md is compiled against the library and run, as the README's are.</summary>
public class StreamingGuideTests
{
    private static string Guide => File.ReadAllText(Path.Combine(ReadmeExampleTests.RepositoryRoot(), "docs", "streaming.md"));

    public static TheoryData<int> Examples => [.. Enumerable.Range(0, ReadmeExampleTests.CSharpBlock().Matches(Guide).Count)];

    [Fact]
    public void The_guide_has_its_four_examples() => Assert.Equal(4, ReadmeExampleTests.CSharpBlock().Matches(Guide).Count);

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_guide_example_compiles_and_runs(int index) =>
        ReadmeExampleTests.Run(ReadmeExampleTests.CSharpBlock().Matches(Guide)[index].Groups[1].Value);
}
