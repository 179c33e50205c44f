using System.Runtime.InteropServices;

namespace LstmSimd.Shared;

/// <summary>What kind of thing a path names, as the writers need to know it.</summary>
internal enum FileKind
{
    /// <summary>Nothing is there.</summary>
    Missing,

    /// <summary>A regular file: replaced through a temporary file and a rename.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A device, FIFO or socket (/dev/null, /dev/full, a named pipe): written in place, never replaced.</summary>
    Special,
}

/// <summary>
/// The kind of a path and the identity (device, inode) of what it names, after following symbolic links.
/// .NET has no portable way to tell a regular file from a device or a FIFO, so on Linux this asks the kernel
/// (<see cref="LinuxFileSystem"/>); elsewhere a non-directory counts as regular and has no inode, so two paths are
/// only compared by their resolved names.
/// </summary>
internal readonly record struct FileIdentity(FileKind Kind, ulong Device, ulong Inode)
{
    /// <summary>Whether the identity came from the kernel.</summary>
    public bool HasInode => Inode != 0;

    /// <summary>What <paramref name="path"/> names, following symbolic links.</summary>
    public static FileIdentity Of(string path)
    {
        if (LinuxFileSystem.TryStat(path, out FileIdentity identity)) return identity;
        if (Directory.Exists(path)) return new FileIdentity(FileKind.Directory, 0, 0);
        return new FileIdentity(File.Exists(path) ? FileKind.Regular : FileKind.Missing, 0, 0);
    }
}

/// <summary>The two Linux calls .NET does not offer: statx (a file's type and inode) and fsync of a directory.</summary>
internal static partial class LinuxFileSystem
{
    private const int AtCurrentDirectory = -100, OpenReadOnlyCloseOnExec = 0x80000;
    private const uint WantTypeAndInode = 0x1 /* STATX_TYPE */ | 0x100 /* STATX_INO */;
    private const int TypeMask = 0xF000, RegularType = 0x8000, DirectoryType = 0x4000;
    private const int NoSuchFile = 2, NotADirectory = 20;

    private static bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>The kind and identity of what <paramref name="path"/> names; false when the kernel cannot say (not Linux, no statx, no permission).</summary>
    public static bool TryStat(string path, out FileIdentity identity)
    {
        identity = default;
        if (s_unavailable) return false;
        try
        {
            if (Statx(AtCurrentDirectory, path, 0, WantTypeAndInode, out StatxBuffer status) == 0)
            {
                FileKind kind = (status.Mode & TypeMask) switch
                {
                    RegularType => FileKind.Regular,
                    DirectoryType => FileKind.Directory,
                    _ => FileKind.Special,
                };
                identity = new FileIdentity(kind, ((ulong)status.DeviceMajor << 32) | status.DeviceMinor, status.Inode);
                return true;
            }

            if (Marshal.GetLastPInvokeError() is not (NoSuchFile or NotADirectory)) return false;
            identity = new FileIdentity(FileKind.Missing, 0, 0);
            return true;
        }
        catch (EntryPointNotFoundException)
        {
            s_unavailable = true; // a C library older than statx
            return false;
        }
    }

    /// <summary>Makes a rename in <paramref name="directory"/> durable; best effort, as some file systems cannot sync a directory.</summary>
    public static void TrySyncDirectory(string directory)
    {
        if (s_unavailable) return;
        int descriptor = Open(directory, OpenReadOnlyCloseOnExec);
        if (descriptor < 0) return;
        _ = FSync(descriptor);
        _ = Close(descriptor);
    }

    // statx's result has the same layout on every architecture (unlike struct stat); only the fields read are declared.
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(136)] public uint DeviceMajor;
        [FieldOffset(140)] public uint DeviceMinor;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Statx(int directory, string path, int flags, uint mask, out StatxBuffer buffer);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int FSync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Close(int descriptor);
}
