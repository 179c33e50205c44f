using System.IO.MemoryMappedFiles;

namespace LstmSimd.IO;

/// <summary>
/// Random-access bytes behind a tensor file: memory (small files are read whole), a memory-mapped file or a seekable stream.
/// Readers check every range against <see cref="Length"/> before calling <see cref="Read"/>, so mapped
/// and streamed files are read piecewise, on demand, and never copied whole.
/// </summary>
internal abstract class ByteSource : IDisposable
{
    public abstract long Length { get; }

    /// <summary>Copies <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/>; the range is in bounds.</summary>
    public abstract void Read(long offset, Span<byte> destination);

    /// <summary>A view of the bytes without copying when the source allows it (memory, mapped files), else false.</summary>
    public virtual bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = default;
        return false;
    }

    public virtual void Dispose() { }

    public static ByteSource FromMemory(ReadOnlyMemory<byte> memory) => new MemorySource(memory);

    public static ByteSource FromStream(Stream stream, bool leaveOpen) => new StreamSource(stream, leaveOpen);

    /// <summary>Files up to this length are read into memory; longer ones are memory-mapped.</summary>
    public const long InMemoryLimit = 256L << 20;

    /// <summary>
    /// Opens <paramref name="path"/>, which must be a regular file (checked before opening: opening a FIFO blocks). A file of up
    /// to <see cref="InMemoryLimit"/> bytes is read into memory, so nothing another process does to the file afterwards can
    /// affect the reader; a longer one is mapped read-only, and if it is truncated while mapped, reading the lost pages faults.
    /// </summary>
    /// <exception cref="ModelFormatException">The path is not a regular file, or the file shrank while it was read.</exception>
    public static ByteSource OpenFile(string path)
    {
        FileStream file = RegularFile.OpenRead(path, problem => new ModelFormatException($"'{SafetensorsFile.Printable(path)}' {problem}; a model is read from a regular file."));
        return FromOpenedFile(file, path);
    }

    /// <summary>As <see cref="OpenFile"/>, for a file already opened from <paramref name="path"/> (which it takes over and disposes when done).</summary>
    internal static ByteSource FromOpenedFile(FileStream file, string path)
    {
        bool mapped = false;
        try
        {
            file.Position = 0;
            long length = file.Length;
            if (length > InMemoryLimit)
            {
                var source = new MappedSource(file);
                mapped = true;
                return source;
            }

            var bytes = new byte[length];
            int read = file.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (read != length)
                throw new ModelFormatException($"'{SafetensorsFile.Printable(path)}' shrank from {length} to {read} bytes while it was read.");
            return new MemorySource(bytes);
        }
        finally
        {
            if (!mapped) file.Dispose();
        }
    }

    private sealed class MemorySource(ReadOnlyMemory<byte> memory) : ByteSource
    {
        public override long Length => memory.Length;

        public override void Read(long offset, Span<byte> destination) => memory.Span.Slice((int)offset, destination.Length).CopyTo(destination);

        public override bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
        {
            span = memory.Span.Slice((int)offset, length);
            return true;
        }
    }

    private sealed class StreamSource : ByteSource
    {
        private readonly Stream _stream;
        private readonly bool _leaveOpen;
        private readonly Lock _gate = new();

        public StreamSource(Stream stream, bool leaveOpen)
        {
            ArgumentNullException.ThrowIfNull(stream);
            if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
            _stream = stream;
            _leaveOpen = leaveOpen;
            Length = stream.Length;
        }

        public override long Length { get; }

        public override void Read(long offset, Span<byte> destination)
        {
            lock (_gate)
            {
                _stream.Position = offset;
                _stream.ReadExactly(destination);
            }
        }

        public override void Dispose()
        {
            if (!_leaveOpen) _stream.Dispose();
        }
    }

    private sealed unsafe class MappedSource : ByteSource
    {
        private readonly MemoryMappedFile _map;
        private readonly MemoryMappedViewAccessor _view;
        private readonly byte* _pointer;

        public MappedSource(FileStream file)
        {
            Length = file.Length;
            _map = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            try
            {
                _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                byte* pointer = null;
                _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                _pointer = pointer + _view.PointerOffset;
            }
            catch
            {
                _view?.Dispose();
                _map.Dispose();
                throw;
            }
        }

        public override long Length { get; }

        public override void Read(long offset, Span<byte> destination) =>
            new ReadOnlySpan<byte>(_pointer + offset, destination.Length).CopyTo(destination);

        public override bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
        {
            span = new ReadOnlySpan<byte>(_pointer + offset, length);
            return true;
        }

        public override void Dispose()
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map.Dispose();
        }
    }
}
