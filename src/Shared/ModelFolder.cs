namespace LstmSimd.Shared;

/// <summary>
/// Files a model file names beside itself (ONNX external data, TensorFlow.js weight shards), opened only when they stay
/// inside the model's folder: a name that is absolute, climbs with <c>..</c>, or resolves (through symbolic links too)
/// outside the folder is refused, and so is one that is not a regular file (a FIFO would block the loader forever) or
/// leads into a loop of links.
/// </summary>
internal static class ModelFolder
{
    /// <summary>
    /// Opens <paramref name="relativePath"/> inside <paramref name="folder"/> for reading, or throws what
    /// <paramref name="refuse"/> makes of the problem: the end of a sentence naming the file, e.g. <c>leaves the model's
    /// folder; refused</c> or <c>is a FIFO (named pipe); it must be a regular file</c>.
    /// </summary>
    public static FileStream OpenRead(string folder, string relativePath, Func<string, Exception> refuse)
    {
        ArgumentNullException.ThrowIfNull(refuse);
        string full = ResolveInside(folder, relativePath, refuse);
        return RegularFile.OpenRead(full, problem => refuse($"{problem}; it must be a regular file"));
    }

    /// <summary>The full path, symbolic links followed, of <paramref name="relativePath"/> when it names a regular file inside <paramref name="folder"/>.</summary>
    private static string ResolveInside(string folder, string relativePath, Func<string, Exception> refuse)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(relativePath);
        ArgumentNullException.ThrowIfNull(refuse);
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        const string leaves = "leaves the model's folder; refused";
        if (relativePath.Length == 0 || Path.IsPathRooted(relativePath) || relativePath.Contains('\0', StringComparison.Ordinal)) throw refuse(leaves);
        foreach (string part in relativePath.Split('/', '\\'))
            if (part == "..") throw refuse(leaves);
        string full = Path.GetFullPath(Path.Combine(root, relativePath));
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) throw refuse(leaves);
        if (RegularFile.Problem(full) is string problem) throw refuse($"{problem}; it must be a regular file");

        // A link inside the folder may point outside it: compare the final targets.
        string realRoot, real;
        try
        {
            realRoot = Resolve(root);
            real = Resolve(full);
        }
        catch (IOException e)
        {
            throw refuse($"has symbolic links that cannot be followed: {e.Message}");
        }

        if (!real.StartsWith(realRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal)) throw refuse(leaves);
        return real;
    }

    /// <summary>The path with every symbolic link along it followed.</summary>
    private static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        string? parent = Path.GetDirectoryName(full);
        string resolvedParent = parent is null ? "" : Resolve(parent);
        string joined = parent is null ? full : Path.Combine(resolvedParent, Path.GetFileName(full));
        FileSystemInfo info = Directory.Exists(joined) ? new DirectoryInfo(joined) : new FileInfo(joined);
        FileSystemInfo? target = info.LinkTarget is null ? null : info.ResolveLinkTarget(returnFinalTarget: true);
        return target is null ? joined : Resolve(target.FullName);
    }
}
