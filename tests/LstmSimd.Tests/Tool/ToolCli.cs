using System.Diagnostics;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary>Runs the built <c>lstmsimd</c> as a child process in a working directory.</summary>
internal static class ToolCli
{
    public static string Dll
    {
        get
        {
            // tests/LstmSimd.Tests/bin/<Configuration>/net10.0 → src/LstmSimd.Cli/bin/<Configuration>/net10.0
            var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string configuration = bin.Parent!.Name, root = bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(root, "src", "LstmSimd.Cli", "bin", configuration, bin.Name, "LstmSimd.Cli.dll");
        }
    }

    public static Process Start(string workingDirectory, params string[] args) => Start(workingDirectory, null, args);

    /// <summary>Starts the tool with extra environment variables (e.g. LSTMSIMD_KERNEL to force a kernel path).</summary>
    public static Process Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        start.ArgumentList.Add(Dll);
        foreach (string a in args) start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    public static (int Code, string Out, string Err) Run(string workingDirectory, params string[] args) => Run(workingDirectory, null, args);

    /// <inheritdoc cref="Start(string, IReadOnlyDictionary{string, string}?, string[])"/>
    public static (int Code, string Out, string Err) Run(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using Process p = Start(workingDirectory, environment, args);
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true); // a hung child must not outlive the test; its output so far says where it stood
            p.WaitForExit();
            Assert.Fail($"lstmsimd {string.Join(' ', args)} did not finish within two minutes; stdout: {stdout.Result} stderr: {stderr.Result}");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
