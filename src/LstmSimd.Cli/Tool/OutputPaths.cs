using LstmSimd.IO;

namespace LstmSimd.Cli.Tool;

/// <summary>Refuses a command whose output would overwrite one of its inputs, or whose two outputs would overwrite each other.</summary>
internal static class OutputPaths
{
    /// <summary>Checks every output against every input and every other output (through links and relative paths).</summary>
    /// <exception cref="ArgumentException">Two of them name the same file; the message names both options.</exception>
    public static void RefuseClashes(IReadOnlyList<(string Option, string? Path)> inputs, IReadOnlyList<(string Option, string Path)> outputs)
    {
        for (int o = 0; o < outputs.Count; o++)
        {
            (string option, string path) = outputs[o];
            foreach ((string inputOption, string? inputPath) in inputs)
                if (inputPath is not null && AtomicFile.WouldReplace(path, inputPath))
                    throw new ArgumentException($"{option} {path} is the {inputOption} file; refusing to overwrite an input.");
            for (int other = o + 1; other < outputs.Count; other++)
                if (AtomicFile.WouldReplace(path, outputs[other].Path))
                    throw new ArgumentException($"{option} and {outputs[other].Option} both name {path}; give each its own file.");
        }
    }
}
