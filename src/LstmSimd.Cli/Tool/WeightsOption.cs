using System.CommandLine;
using LstmSimd.IO;

namespace LstmSimd.Cli.Tool;

/// <summary>The <c>--weights</c> option (bench, forecast): the one table of names the tool takes for each <see cref="WeightFormat"/>.</summary>
internal static class WeightsOption
{
    // The short name first; a format missing here cannot be chosen from the command line.
    private static readonly (WeightFormat Format, string[] Names)[] Table =
    [
        (WeightFormat.Float32, ["fp32", "float32"]),
        (WeightFormat.Float16, ["fp16", "float16"]),
        (WeightFormat.BFloat16, ["bf16", "bfloat16"]),
        (WeightFormat.Int8, ["int8"]),
    ];

    /// <summary>The short names, for help and messages: "fp32, fp16, bf16 or int8".</summary>
    public static string Names { get; } =
        string.Join(", ", Table[..^1].Select(t => t.Names[0])) + " or " + Table[^1].Names[0];

    /// <summary>A <c>--weights</c> option, default fp32; <paramref name="description"/> says what it applies to.</summary>
    public static Option<string> Create(string description) => new("--weights")
    {
        Description = $"{description}: {Names} (LstmModelOptions.Weights).",
        DefaultValueFactory = _ => "fp32",
    };

    /// <summary>The format <paramref name="text"/> names, ignoring case and surrounding spaces.</summary>
    /// <exception cref="ArgumentException">No format has that name; the message lists the names there are.</exception>
    public static WeightFormat Parse(string? text)
    {
        string name = (text ?? "").Trim().ToLowerInvariant();
        foreach ((WeightFormat format, string[] names) in Table)
            if (names.Contains(name)) return format;
        throw new ArgumentException($"--weights {UserText.Printable(text ?? "")}: must be {Names}.");
    }

    /// <summary>The short name of <paramref name="format"/>: fp32, fp16, …</summary>
    public static string NameOf(WeightFormat format) =>
        Table.Single(t => t.Format == format).Names[0];
}
