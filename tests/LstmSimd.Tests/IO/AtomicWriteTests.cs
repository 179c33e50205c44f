using System.Diagnostics;
using System.Text.RegularExpressions;
using LstmSimd.IO;
using LstmSimd.Shared;
using LstmSimd.Tests.Tool;
using Xunit;

namespace LstmSimd.Tests.IO;

/// <summary>
/// Every file LstmSimd writes goes through one atomic writer: links are followed and kept, devices and FIFOs are
/// written in place (never replaced, their errors reported), regular files are replaced whole, with their permissions,
/// through recognisable temporaries that a later write cleans up when their writer is gone.
/// </summary>
public sealed class AtomicWriteTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SafetensorsWriter SmallFile(float value) => new SafetensorsWriter().Add("x", [value, value], 2);

    private static float FirstValue(string path)
    {
        using SafetensorsFile file = SafetensorsFile.Open(path);
        return file.ReadSingles("x")[0];
    }

    /// <summary>What the file system says a path is, without following a link: "regular file", "fifo", "symbolic link", …</summary>
    private static string KindOnDisk(string path) => Shell("stat", "--format=%F", path).Trim();

    private static string Shell(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) start.ArgumentList.Add(a);
        using Process p = Process.Start(start)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} failed: {p.StandardError.ReadToEnd()}");
        return output;
    }

    private static string[] FilesIn(string directory) => [.. Directory.GetFileSystemEntries(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    /// <summary>Reads a FIFO on a background thread (opening it blocks until a writer comes); the bytes it got.</summary>
    private static Task<byte[]> ReadFifo(string path)
    {
        var read = new TaskCompletionSource<byte[]>();
        var thread = new Thread(() =>
        {
            try
            {
                read.SetResult(File.ReadAllBytes(path));
            }
            catch (Exception e)
            {
                read.SetException(e);
            }
        }) { IsBackground = true }; // left blocked, never holding the test run, if nothing ever writes
        thread.Start();
        return read.Task;
    }

    [Fact]
    public void Saving_through_a_chain_of_symlinks_replaces_the_final_target_and_keeps_every_link()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "real"));
        Directory.CreateDirectory(Path.Combine(_dir, "links"));
        string target = Path.Combine(_dir, "real", "model.safetensors");
        SmallFile(1).Save(target);
        string first = Path.Combine(_dir, "links", "first"), second = Path.Combine(_dir, "links", "second");
        File.CreateSymbolicLink(first, "../real/model.safetensors");
        File.CreateSymbolicLink(second, "first");

        SmallFile(2).Save(second);

        Assert.Equal("first", new FileInfo(second).LinkTarget);
        Assert.Equal("../real/model.safetensors", new FileInfo(first).LinkTarget);
        Assert.Equal("regular file", KindOnDisk(target));
        Assert.Equal(2f, FirstValue(target));
        Assert.Equal(["model.safetensors"], FilesIn(Path.Combine(_dir, "real")));
        Assert.Equal(["first", "second"], FilesIn(Path.Combine(_dir, "links")));
    }

    [Fact]
    public void A_dangling_symlink_creates_its_target_and_stays_a_link()
    {
        string link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, "created.safetensors");
        SmallFile(3).Save(link);
        Assert.Equal("created.safetensors", new FileInfo(link).LinkTarget);
        Assert.Equal(3f, FirstValue(Path.Combine(_dir, "created.safetensors")));
    }

    [Fact]
    public async Task Saving_to_a_FIFO_writes_through_it_and_leaves_it_a_FIFO()
    {
        string fifo = Path.Combine(_dir, "pipe");
        Shell("mkfifo", fifo);
        Task<byte[]> received = ReadFifo(fifo);

        SmallFile(4).Save(fifo);

        Assert.Equal("fifo", KindOnDisk(fifo));
        Assert.Equal(SmallFile(4).ToArray(), await received.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(["pipe"], FilesIn(_dir));
    }

    [Fact]
    public void A_full_device_behind_a_link_reports_the_failure_and_neither_is_replaced()
    {
        // A link to /dev/full, never /dev/full itself: a writer that renames would replace only the test's link.
        string link = Path.Combine(_dir, "full");
        File.CreateSymbolicLink(link, "/dev/full");

        var e = Assert.Throws<IOException>(() => SmallFile(5).Save(link));

        Assert.Contains(link, e.Message, StringComparison.Ordinal);
        Assert.Equal("/dev/full", new FileInfo(link).LinkTarget);
        Assert.Equal("character special file", KindOnDisk("/dev/full"));
        Assert.Equal(["full"], FilesIn(_dir));
    }

    [Fact]
    public void A_path_through_a_descriptor_is_written_into_the_open_file_not_renamed_over_it()
    {
        // /dev/stdout resolves to /proc/self/fd/1 and then to the file a shell redirected into: that file must be
        // written through, not replaced under the shell.
        string path = Path.Combine(_dir, "redirected.safetensors");
        using var open = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        string descriptor = $"/proc/self/fd/{open.SafeFileHandle.DangerousGetHandle()}";

        SmallFile(9).Save(descriptor);

        open.Position = 0;
        using var written = new MemoryStream();
        open.CopyTo(written);
        Assert.Equal(SmallFile(9).ToArray(), written.ToArray());
        Assert.Equal(["redirected.safetensors"], FilesIn(_dir));
    }

    [Fact]
    public void A_failed_write_keeps_the_previous_file_whole_and_leaves_no_temporary()
    {
        string path = Path.Combine(_dir, "out.csv");
        File.WriteAllText(path, "previous");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[100_000]);
            throw new InvalidOperationException("the writer failed half way");
        }));
        Assert.Equal("previous", File.ReadAllText(path));
        Assert.Equal(["out.csv"], FilesIn(_dir));
    }

    [Fact]
    public void The_temporary_is_hidden_beside_the_file_and_names_it_and_the_writing_process()
    {
        string path = Path.Combine(_dir, "out.safetensors");
        string[] during = [];
        AtomicFile.Write(path, stream =>
        {
            during = FilesIn(_dir);
            stream.Write("x"u8);
        });
        string name = Assert.Single(during);
        Assert.Matches($"^{Regex.Escape(".out.safetensors.lstmsimd-tmp-")}{Environment.ProcessId}-[0-9a-f]{{8}}$", name);
        Assert.Equal(["out.safetensors"], FilesIn(_dir));
    }

    [Fact]
    public void Stale_temporaries_of_ours_are_removed_by_the_next_write_to_the_directory_and_nothing_else()
    {
        const int GonePid = int.MaxValue; // above any pid_max
        DateTime now = DateTime.UtcNow;
        string Temporary(string name, DateTime written)
        {
            string path = Path.Combine(_dir, name);
            File.WriteAllText(path, "partial");
            File.SetLastWriteTimeUtc(path, written);
            return path;
        }

        string killed = Temporary($".a.csv.lstmsimd-tmp-{GonePid}-0123abcd", now.AddMinutes(-5));
        string ancient = Temporary($".b.csv.lstmsimd-tmp-{Environment.ProcessId}-89abcdef", now.AddHours(-7));
        string live = Temporary($".c.csv.lstmsimd-tmp-{Environment.ProcessId}-00000000", now.AddHours(-1));
        string justKilled = Temporary($".d.csv.lstmsimd-tmp-{GonePid}-11111111", now);
        string notHidden = Temporary($"e.csv.lstmsimd-tmp-{GonePid}-22222222", now.AddHours(-7));
        string someoneElses = Temporary(".f.csv.tmp", now.AddHours(-7));

        SmallFile(6).Save(Path.Combine(_dir, "other.safetensors"));

        Assert.False(File.Exists(killed));
        Assert.False(File.Exists(ancient));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(justKilled));
        Assert.True(File.Exists(notHidden));
        Assert.True(File.Exists(someoneElses));
    }

    [Fact]
    public void Replacing_a_file_keeps_its_permissions()
    {
        if (OperatingSystem.IsWindows()) return;
        string path = Path.Combine(_dir, "private.safetensors");
        SmallFile(7).Save(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        SmallFile(8).Save(path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(8f, FirstValue(path));
    }

    [Fact]
    public void Same_file_checks_see_through_relative_paths_links_and_hard_links_but_not_devices()
    {
        string file = Path.Combine(_dir, "data.csv"), link = Path.Combine(_dir, "link.csv"), hard = Path.Combine(_dir, "hard.csv");
        File.WriteAllText(file, "t,v\n");
        File.WriteAllText(Path.Combine(_dir, "other.csv"), "t,v\n");
        File.CreateSymbolicLink(link, "data.csv");
        Shell("ln", file, hard);
        Assert.True(AtomicFile.WouldReplace(link, file));
        Assert.True(AtomicFile.WouldReplace(Path.Combine(_dir, "sub", "..", "data.csv"), file));
        Assert.True(AtomicFile.WouldReplace(hard, file));
        Assert.True(AtomicFile.WouldReplace(Path.Combine(_dir, "new.svg"), Path.Combine(_dir, ".", "new.svg")));
        Assert.False(AtomicFile.WouldReplace(Path.Combine(_dir, "other.csv"), file));
        Assert.False(AtomicFile.WouldReplace(Path.Combine(_dir, "new.svg"), file));
        Assert.False(AtomicFile.WouldReplace("/dev/null", "/dev/null"));
    }

    private static string[] Run(string output) =>
        ["run", "--model", GoldenRunner.GoldenPath("pytorch", "single_layer.safetensors"), "--input", GoldenRunner.GoldenPath("pytorch", "single_layer.safetensors"), "--output", output];

    [Fact]
    public void Run_output_onto_a_full_disk_fails_with_exit_2_and_one_line()
    {
        string link = Path.Combine(_dir, "full.safetensors");
        File.CreateSymbolicLink(link, "/dev/full");
        ToolCommandTests.AssertOneLineOfBadInput(ToolCli.Run(_dir, Run(link)), "No space left on device");
        Assert.Equal("/dev/full", new FileInfo(link).LinkTarget);
    }

    [Fact]
    public async Task Run_output_into_a_FIFO_and_through_a_link_writes_the_file_and_keeps_both()
    {
        string fifo = Path.Combine(_dir, "pipe");
        Shell("mkfifo", fifo);
        Task<byte[]> received = ReadFifo(fifo);
        var (code, _, stderr) = ToolCli.Run(_dir, Run(fifo));
        Assert.True(code == 0, stderr);
        Assert.Equal("fifo", KindOnDisk(fifo));
        using (SafetensorsFile written = SafetensorsFile.Open(new MemoryStream(await received.WaitAsync(TimeSpan.FromSeconds(30)))))
            Assert.True(written.Contains("h_n"));

        string target = Path.Combine(_dir, "y.safetensors"), link = Path.Combine(_dir, "y-link");
        File.WriteAllText(target, "previous");
        File.CreateSymbolicLink(link, "y.safetensors");
        (code, _, stderr) = ToolCli.Run(_dir, Run("y-link"));
        Assert.True(code == 0, stderr);
        Assert.Equal("y.safetensors", new FileInfo(link).LinkTarget);
        using SafetensorsFile replaced = SafetensorsFile.Open(target);
        Assert.True(replaced.Contains("h_n"));
    }

    [Fact]
    public void Run_output_to_its_own_redirected_stdout_writes_the_data_then_the_messages()
    {
        // As `lstmsimd run --output /dev/stdout > out.bin`, through /proc/self/fd/1 (which /dev/stdout links to), so
        // that code writing by the wrong rule fails on /proc, never touching the machine's /dev/stdout.
        string expected = Path.Combine(_dir, "expected.safetensors"), redirected = Path.Combine(_dir, "out.bin");
        var (code, _, stderr) = ToolCli.Run(_dir, Run(expected));
        Assert.True(code == 0, stderr);
        string[] words = ["dotnet", ToolCli.Dll, .. Run("/proc/self/fd/1")];
        string command = string.Join(' ', words.Select(a => $"'{a}'")) + " > out.bin";
        var start = new ProcessStartInfo("sh") { WorkingDirectory = _dir, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using (Process shell = Process.Start(start)!)
        {
            string errors = shell.StandardError.ReadToEnd();
            shell.WaitForExit();
            Assert.True(shell.ExitCode == 0, errors);
        }

        byte[] data = File.ReadAllBytes(expected), written = File.ReadAllBytes(redirected);
        Assert.Equal(data, written[..data.Length]);
        Assert.EndsWith("wrote c_n, h_n, output to /proc/self/fd/1\n", System.Text.Encoding.UTF8.GetString(written[data.Length..]), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_refuses_an_output_that_is_its_input_however_it_is_named()
    {
        string input = Path.Combine(_dir, "input.safetensors"), link = Path.Combine(_dir, "input-link");
        File.Copy(GoldenRunner.GoldenPath("pytorch", "single_layer.safetensors"), input);
        File.CreateSymbolicLink(link, "input.safetensors");
        byte[] before = File.ReadAllBytes(input);
        foreach (string output in new[] { input, "./input.safetensors", link })
        {
            var result = ToolCli.Run(_dir, "run", "--model", GoldenRunner.GoldenPath("pytorch", "single_layer.safetensors"), "--input", input, "--output", output);
            ToolCommandTests.AssertOneLineOfBadInput(result, "is the --input file; refusing to overwrite an input.");
        }

        Assert.Equal(before, File.ReadAllBytes(input));
        Assert.Equal(["input-link", "input.safetensors"], FilesIn(_dir));
    }
}
