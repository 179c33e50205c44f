using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LstmSimd.Shared;

/// <summary>
/// The one way LstmSimd writes a file (model files, checkpoints, the tool's outputs). A regular file is written to a
/// temporary file beside it, flushed to disk and renamed over it, so a reader, a full disk, a crash or a power cut
/// leaves either the previous file or the whole new one, never a part. A symbolic link is followed to its final
/// target, which is replaced while the link stays. A device, FIFO or descriptor (/dev/null, /dev/full, a named pipe,
/// /dev/stdout) is written in place, never replaced, and its write errors are reported.
/// </summary>
internal static class AtomicFile
{
    /// <summary>What marks a temporary file as ours: <c>.&lt;name&gt;.lstmsimd-tmp-&lt;pid&gt;-&lt;random&gt;</c>.</summary>
    internal const string TemporaryMarker = ".lstmsimd-tmp-";

    /// <summary>A temporary file of a process that is gone is removed once this old (its writer cannot be mid-rename).</summary>
    internal static readonly TimeSpan OrphanAge = TimeSpan.FromMinutes(1);

    /// <summary>A temporary file this old is removed whoever wrote it (its process id may have been reused).</summary>
    internal static readonly TimeSpan StaleAge = TimeSpan.FromHours(6);

    // The name inside a temporary file's name is cut so that the whole stays within the 255 bytes a file name may take.
    private const int TemporaryNameChars = 40;

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true);
            writer.Write(text);
        });
    }

    /// <summary>Writes what <paramref name="write"/> puts into the stream it is given.</summary>
    /// <exception cref="IOException">The write failed (a full disk, a missing directory, …); a regular file keeps its previous content.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        (string target, string? descriptor) = ResolveTarget(fullPath);
        FileKind kind = FileIdentity.Of(target).Kind;
        if (kind == FileKind.Directory) throw new IOException($"Could not write {path}: it is a directory.");
        try
        {
            if (descriptor is not null) WriteThroughDescriptor(descriptor, write);
            else if (kind == FileKind.Special) WriteInPlace(target, write);
            else ReplaceRegularFile(target, kind == FileKind.Regular, write);
        }
        catch (IOException e)
        {
            throw new IOException($"Could not write {path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Whether writing <paramref name="output"/> would replace what <paramref name="other"/> names: the same regular
    /// file through links, relative paths and (on Linux) hard links, or the same path where nothing is yet. Devices
    /// and FIFOs never clash: writing /dev/null twice replaces nothing.
    /// </summary>
    public static bool WouldReplace(string output, string other)
    {
        string a = ResolveTarget(Path.GetFullPath(output)).Target, b = ResolveTarget(Path.GetFullPath(other)).Target;
        FileIdentity x = FileIdentity.Of(a), y = FileIdentity.Of(b);
        if (x.Kind == FileKind.Regular && y.Kind == FileKind.Regular && x.HasInode && y.HasInode) return x.Device == y.Device && x.Inode == y.Inode;
        bool samePath = string.Equals(a, b, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
        return samePath && x.Kind == y.Kind && x.Kind is FileKind.Regular or FileKind.Missing;
    }

    /// <summary>
    /// The file a path finally names, following each symbolic link (a dangling one names the file it would create);
    /// and the first link on the way that is a descriptor (/proc/self/fd/1, /dev/fd/3, …: /dev/stdout and its kin),
    /// which names a file the process was given (a shell's redirection) and must be written, not replaced under the shell.
    /// </summary>
    internal static (string Target, string? Descriptor) ResolveTarget(string fullPath)
    {
        string current = fullPath;
        string? descriptor = IsDescriptorPath(current) ? current : null;
        for (int hops = 0; new FileInfo(current).LinkTarget is string link; hops++)
        {
            if (hops == 40) throw new IOException($"{fullPath}: too many levels of symbolic links.");
            current = Path.GetFullPath(link, Path.GetDirectoryName(current)!);
            if (descriptor is null && IsDescriptorPath(current)) descriptor = current;
        }

        return (current, descriptor);
    }

    private static bool IsDescriptorPath(string path) =>
        OperatingSystem.IsLinux() && (path.StartsWith("/proc/", StringComparison.Ordinal) || path.StartsWith("/dev/fd/", StringComparison.Ordinal));

    private static void WriteThroughDescriptor(string descriptor, Action<Stream> write)
    {
        // The process's own stdout and stderr are written where they stand, so a redirected file keeps its offset and
        // the messages printed after follow the data; reopening them by name would start again at the file's beginning.
        string? directory = Path.GetDirectoryName(descriptor), number = Path.GetFileName(descriptor);
        bool own = directory is "/proc/self/fd" or "/dev/fd" || directory == $"/proc/{Environment.ProcessId}/fd";
        if (own && number is "1" or "2")
        {
            using Stream standard = number == "1" ? Console.OpenStandardOutput() : Console.OpenStandardError();
            write(standard);
            standard.Flush();
        }
        else
        {
            WriteInPlace(descriptor, write);
        }
    }

    private static void WriteInPlace(string target, Action<Stream> write)
    {
        using var stream = new FileStream(target, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
        write(stream);
        stream.Flush(); // a device's error (ENOSPC from /dev/full) surfaces here, not hidden in Dispose
    }

    private static void ReplaceRegularFile(string target, bool exists, Action<Stream> write)
    {
        string directory = Path.GetDirectoryName(target)!, name = Path.GetFileName(target);
        RemoveStaleTemporaries(directory);
        string temporary = Path.Combine(directory, TemporaryName(name, Environment.ProcessId));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16 };
        // The new file gets the old one's permissions from the start, so a private file is never readable by others.
        UnixFileMode? mode = null;
        if (exists && !OperatingSystem.IsWindows()) options.UnixCreateMode = mode = File.GetUnixFileMode(target);
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                if (mode is UnixFileMode exact && !OperatingSystem.IsWindows()) File.SetUnixFileMode(stream.SafeFileHandle, exact); // past the umask
                write(stream);
                stream.Flush(flushToDisk: true); // the data is on disk before the rename makes it the file
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }

        LinuxFileSystem.TrySyncDirectory(directory); // and the rename itself survives a power cut
    }

    internal static string TemporaryName(string name, int processId)
    {
        int keep = Math.Min(name.Length, TemporaryNameChars);
        if (keep < name.Length && char.IsHighSurrogate(name[keep - 1])) keep--;
        string random = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        return string.Create(CultureInfo.InvariantCulture, $".{name[..keep]}{TemporaryMarker}{processId}-{random}");
    }

    /// <summary>Removes temporary files of ours left by a killed writer: their process is gone, or they are very old.</summary>
    private static void RemoveStaleTemporaries(string directory)
    {
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true, MatchType = MatchType.Simple };
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(directory, "*" + TemporaryMarker + "*", options).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // cleaning is a courtesy; the write itself reports a directory it cannot use
        }

        DateTime now = DateTime.UtcNow;
        foreach (string file in candidates)
        {
            if (!TryParseWriter(Path.GetFileName(file), out int processId)) continue;
            TimeSpan age = now - File.GetLastWriteTimeUtc(file);
            if (age > StaleAge || (age > OrphanAge && !IsRunning(processId))) TryDelete(file);
        }
    }

    private static bool TryParseWriter(string fileName, out int processId)
    {
        processId = 0;
        int marker = fileName.LastIndexOf(TemporaryMarker, StringComparison.Ordinal);
        if (!fileName.StartsWith('.') || marker < 1) return false;
        string[] parts = fileName[(marker + TemporaryMarker.Length)..].Split('-');
        return parts.Length == 2 && parts[1].Length == 8 && parts[1].All(char.IsAsciiHexDigitLower)
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out processId);
    }

    private static bool IsRunning(int processId)
    {
        if (processId == Environment.ProcessId) return true;
        try
        {
            using Process process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next writer's clean-up; the reason the write failed matters more.
        }
    }
}
