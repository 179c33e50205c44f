using System.Diagnostics;
using LstmSimd.IO;
using LstmSimd.Shared;
using Xunit;
using LstmSimd.IO.Onnx;

namespace LstmSimd.Tests.IO;

/// <summary>
/// Paths that are not regular files (FIFOs, devices, directories, loops of links) given as a model or as ONNX external
/// data, and files changed on disk after loading. Each is refused with a <see cref="ModelFormatException"/> before
/// anything is opened (opening a FIFO blocks until someone writes to it), or has no effect on what was loaded.
/// </summary>
public sealed class ModelPathTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"lstmsimd-paths-{Guid.NewGuid():N}");

    public ModelPathTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Fifo(string name)
    {
        string path = Path.Combine(_folder, name);
        using Process mkfifo = Process.Start("mkfifo", [path])!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    /// <summary>
    /// Runs <paramref name="load"/> on another thread and returns what it threw. If it is still blocked after a long
    /// grace period (opening the FIFO for reading), the FIFO is opened for writing to release it and the test fails.
    /// </summary>
    private static Exception? WithoutBlockingOn(string fifo, Action load)
    {
        Task<Exception?> task = Task.Run<Exception?>(() => Record.Exception(load));
        if (task.Wait(TimeSpan.FromSeconds(30))) return task.Result;
        using (new FileStream(fifo, FileMode.Open, FileAccess.Write)) { }
        task.Wait();
        Assert.Fail("the loader blocked opening a FIFO");
        return null;
    }

    private static byte[] ExternalModel(string location) => OnnxBuilder.Model(
        [OnnxBuilder.FloatTensor("W", new float[24], [1, 8, 3], externalLocation: location), OnnxBuilder.FloatTensor("R", new float[16], [1, 8, 2])], ["X", "W", "R"], []);

    [Fact]
    public void A_FIFO_as_external_data_is_refused_without_opening_it()
    {
        Fifo("w.bin");
        string model = Path.Combine(_folder, "m.onnx");
        File.WriteAllBytes(model, ExternalModel("w.bin"));
        Exception? e = WithoutBlockingOn(Path.Combine(_folder, "w.bin"), () => OnnxModel.Load(model));
        var refused = Assert.IsType<OnnxFormatException>(e);
        Assert.Contains("tensor 'W': external data file 'w.bin' is a FIFO (named pipe); it must be a regular file", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A path checked as a regular file and swapped for a FIFO before it is opened: the opened file's own type is checked
    /// too, and the open itself does not block. The swap is simulated by calling the second check alone.
    /// </summary>
    [Fact]
    public void A_FIFO_that_replaces_a_checked_file_is_refused_when_opened_without_blocking()
    {
        string fifo = Fifo("swapped.bin");
        Exception? e = WithoutBlockingOn(fifo, () => RegularFile.OpenAndCheck(fifo, problem => new ModelFormatException("'swapped.bin' " + problem)).Dispose());
        var refused = Assert.IsType<ModelFormatException>(e);
        Assert.Equal("'swapped.bin' is a FIFO (named pipe)", refused.Message);
    }

    [Fact]
    public void A_regular_file_opened_with_its_type_checked_reads_its_bytes()
    {
        string path = Path.Combine(_folder, "plain.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        using FileStream stream = RegularFile.OpenRead(path, problem => new ModelFormatException(problem));
        byte[] read = new byte[4];
        Assert.Equal(3, stream.Read(read));
        Assert.Equal(new byte[] { 1, 2, 3, 0 }, read);
    }

    [Fact]
    public void A_loop_of_symbolic_links_as_external_data_is_refused_with_the_format_exception()
    {
        File.CreateSymbolicLink(Path.Combine(_folder, "a.bin"), "b.bin");
        File.CreateSymbolicLink(Path.Combine(_folder, "b.bin"), "a.bin");
        string model = Path.Combine(_folder, "m.onnx");
        File.WriteAllBytes(model, ExternalModel("a.bin"));
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(model));
        Assert.Contains("'a.bin' is a symbolic link loop", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_character_device_or_a_folder_as_external_data_is_refused()
    {
        File.CreateSymbolicLink(Path.Combine(_folder, "zero.bin"), "/dev/zero");
        Directory.CreateDirectory(Path.Combine(_folder, "folder.bin"));
        string model = Path.Combine(_folder, "m.onnx");
        foreach ((string location, string expected) in new[] { ("zero.bin", "is a character device"), ("folder.bin", "is a directory") })
        {
            File.WriteAllBytes(model, ExternalModel(location));
            var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(model));
            Assert.Contains($"'{location}' {expected}", e.Message, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string> Loaders => new() { "onnx", "safetensors", "model file" };

    private static void Load(string loader, string path)
    {
        switch (loader)
        {
            case "onnx": OnnxModel.Load(path); break;
            case "safetensors": SafetensorsFile.Open(path).Dispose(); break;
            default: LstmModelFile.Load(path); break;
        }
    }

    [Theory]
    [MemberData(nameof(Loaders))]
    public void A_FIFO_as_the_model_file_is_refused_without_opening_it(string loader)
    {
        string fifo = Fifo("model");
        Exception? e = WithoutBlockingOn(fifo, () => Load(loader, fifo));
        var refused = Assert.IsAssignableFrom<ModelFormatException>(e);
        Assert.Contains("is a FIFO (named pipe); a model is read from a regular file", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Loaders))]
    public void A_device_or_a_folder_as_the_model_file_is_refused(string loader)
    {
        foreach ((string path, string expected) in new[] { ("/dev/zero", "is a character device"), (_folder, "is a directory") })
        {
            var e = Assert.ThrowsAny<ModelFormatException>(() => Load(loader, path));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_safetensors_file_truncated_after_opening_still_reads_what_it_held()
    {
        // Files up to 256 MiB are read into memory: cutting the file on disk cannot fault a reader of a mapped page.
        float[] values = [.. Enumerable.Range(0, 1 << 16).Select(i => i * 0.5f)];
        string path = Path.Combine(_folder, "t.safetensors");
        new SafetensorsWriter().Add("t", values, [values.Length]).Save(path);
        using SafetensorsFile file = SafetensorsFile.Open(path);
        File.WriteAllBytes(path, []);
        Assert.Equal(values, file.ReadSingles("t"));
    }
}
