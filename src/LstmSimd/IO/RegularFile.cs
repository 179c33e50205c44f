using System.Globalization;
using System.Runtime.InteropServices;

namespace LstmSimd.IO;

/// <summary>
/// Tells whether a path names a regular file, without opening it. Loaders ask before they open anything: on Unix,
/// opening a FIFO for reading blocks until another process writes to it (forever, for a file nobody writes), and a
/// device, socket or directory is not a file of bytes. On Linux the file's type comes from <c>statx</c>; where that
/// call is missing, every non-regular file reports a length of 0, so an entry of length 0 is refused unopened there.
/// </summary>
internal static partial class RegularFile
{
    /// <summary>
    /// Null when <paramref name="path"/>, symbolic links followed, is a regular file; otherwise what it is instead
    /// ("does not exist", "is a FIFO (named pipe)", "is a symbolic link loop", …), to end a sentence naming the path.
    /// </summary>
    public static string? Problem(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (OperatingSystem.IsLinux() && TryStatType(path, out string? problem)) return problem;
        if (Directory.Exists(path)) return "is a directory";
        var info = new FileInfo(path);
        if (!info.Exists) return "does not exist";
        return info.Length == 0 && !OperatingSystem.IsWindows() ? "is empty or not a regular file (a FIFO, device or socket)" : null;
    }

    /// <summary>Throws <see cref="ModelFormatException"/> naming the path unless it is a regular file.</summary>
    public static void Require(string path)
    {
        if (Problem(path) is string problem) throw new ModelFormatException($"'{SafetensorsFile.Printable(path)}' {problem}; a model is read from a regular file.");
    }

    /// <returns>False when statx is not available (an old C library); <paramref name="problem"/> is then meaningless.</returns>
    private static unsafe bool TryStatType(string path, out string? problem)
    {
        const int CurrentDirectory = -100, TypeMask = 0xF000;
        const uint WantType = 0x1; // STATX_TYPE
        const int NoEntry = 2, NotADirectory = 20, LinkLoop = 40, NameTooLong = 36;
        byte* buffer = stackalloc byte[256]; // struct statx is 256 bytes on every architecture
        int result;
        try
        {
            result = Statx(CurrentDirectory, path, 0, WantType, buffer);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            problem = null;
            return false;
        }

        if (result != 0)
        {
            int error = Marshal.GetLastPInvokeError();
            problem = error switch
            {
                NoEntry or NotADirectory => "does not exist",
                LinkLoop => "is a symbolic link loop (or a chain of links too long to follow)",
                NameTooLong => "is a path too long for the system",
                _ => "cannot be examined (errno " + error.ToString(CultureInfo.InvariantCulture) + ")",
            };
            return true;
        }

        ushort mode = *(ushort*)(buffer + 28); // stx_mode
        problem = (mode & TypeMask) switch
        {
            0x8000 => null,
            0x4000 => "is a directory",
            0x1000 => "is a FIFO (named pipe)",
            0x2000 => "is a character device",
            0x6000 => "is a block device",
            0xC000 => "is a socket",
            _ => "is not a regular file",
        };
        return true;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static unsafe partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}
