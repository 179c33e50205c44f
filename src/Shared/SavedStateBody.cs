using System.Security.Cryptography;

namespace LstmSimd.Shared;

/// <summary>
/// The part of reading a saved stream state (a pool's, or forecast streams') that its formats share: the rest of the file
/// after its header, checked against the length the header gives and the SHA-256 checksum in its last
/// <see cref="ChecksumLength"/> bytes.
/// </summary>
internal static class SavedStateBody
{
    public const int ChecksumLength = 32;

    /// <summary>
    /// Reads the whole state (the <paramref name="header"/> already read, then the rest of <paramref name="total"/> bytes)
    /// and checks its checksum; <paramref name="count"/> records of at most <paramref name="longestRecord"/> bytes bound the
    /// length a header may claim, so a corrupted one cannot make it allocate without limit.
    /// </summary>
    /// <exception cref="InvalidDataException">The length is impossible, the data ends early, or the checksum does not match.</exception>
    public static byte[] Read(Stream source, ReadOnlySpan<byte> header, long total, int count, long longestRecord)
    {
        int headerLength = header.Length;
        if (total < headerLength + ChecksumLength || count < 0 || total > headerLength + ChecksumLength + (long)count * longestRecord)
            throw new InvalidDataException($"The state is corrupted: its header gives a length of {total} bytes for {count} streams.");

        byte[] bytes = new byte[total];
        header.CopyTo(bytes);
        int rest = source.ReadAtLeast(bytes.AsSpan(headerLength), (int)(total - headerLength), throwOnEndOfStream: false);
        if (rest < total - headerLength)
            throw new InvalidDataException($"The state is truncated: {headerLength + rest} bytes of the {total} its header gives.");
        int body = (int)total - ChecksumLength;
        if (!SHA256.HashData(bytes.AsSpan(0, body)).AsSpan().SequenceEqual(bytes.AsSpan(body)))
            throw new InvalidDataException("The state is corrupted: its SHA-256 checksum does not match its contents.");
        return bytes;
    }
}
