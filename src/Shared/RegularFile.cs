using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LstmSimd.Shared;

/// <summary>
/// Tells whether a path names a regular file, without opening it, and opens one for reading. On Unix, opening a FIFO for
/// reading blocks until another process writes to it (forever, for a file nobody writes), and a device, socket or
/// directory is not a file of bytes. On Linux the file's type comes from <c>statx</c>, asked before opening and again of
/// the opened file (opened without blocking), so a path swapped for a FIFO in between is refused too; where that call is
/// missing, every non-regular file reports a length of 0, so an entry of length 0 is refused unopened there.
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

    /// <summary>
    /// Opens <paramref name="path"/> for reading when it is a regular file; otherwise throws what <paramref name="refuse"/>
    /// makes of the problem (a sentence end, as <see cref="Problem"/> gives).
    /// </summary>
    public static FileStream OpenRead(string path, Func<string, Exception> refuse)
    {
        if (Problem(path) is string problem) throw refuse(problem); // a device is never opened: opening some has effects
        return OperatingSystem.IsLinux()
            ? OpenAndCheck(path, refuse)
            : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.RandomAccess);
    }

    /// <summary>Linux: opens without blocking (a FIFO opens at once) and refuses what the opened file's type is not.</summary>
    internal static FileStream OpenAndCheck(string path, Func<string, Exception> refuse)
    {
        const int ReadOnlyNonBlockingCloseOnExec = 0x0 | 0x800 | 0x80000; // O_RDONLY | O_NONBLOCK | O_CLOEXEC
        int fd = Open(path, ReadOnlyNonBlockingCloseOnExec);
        if (fd < 0) throw refuse(Describe(Marshal.GetLastPInvokeError()));
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (TryStatType(fd, out string? problem) && problem is not null) throw refuse(problem);
            return new FileStream(handle, FileAccess.Read, bufferSize: 1);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <returns>False when statx is not available (an old C library); <paramref name="problem"/> is then meaningless.</returns>
    private static unsafe bool TryStatType(string path, out string? problem) => TryStatType(CurrentDirectory, path, 0, out problem);

    /// <summary>The type of the opened file <paramref name="fd"/> (statx with an empty path).</summary>
    private static unsafe bool TryStatType(int fd, out string? problem) => TryStatType(fd, "", EmptyPath, out problem);

    private const int CurrentDirectory = -100, EmptyPath = 0x1000; // AT_FDCWD, AT_EMPTY_PATH

    private static unsafe bool TryStatType(int directoryFd, string path, int flags, out string? problem)
    {
        const int TypeMask = 0xF000;
        const uint WantType = 0x1; // STATX_TYPE
        byte* buffer = stackalloc byte[256]; // struct statx is 256 bytes on every architecture
        int result;
        try
        {
            result = Statx(directoryFd, path, flags, WantType, buffer);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            problem = null;
            return false;
        }

        if (result != 0)
        {
            problem = Describe(Marshal.GetLastPInvokeError());
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

    private static string Describe(int error)
    {
        const int NoEntry = 2, NotADirectory = 20, LinkLoop = 40, NameTooLong = 36;
        return error switch
        {
            NoEntry or NotADirectory => "does not exist",
            LinkLoop => "is a symbolic link loop (or a chain of links too long to follow)",
            NameTooLong => "is a path too long for the system",
            _ => "cannot be examined (errno " + error.ToString(CultureInfo.InvariantCulture) + ")",
        };
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static unsafe partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}
