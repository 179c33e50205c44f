using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LstmSimd.Kernels;

/// <summary>
/// An array of <typeparamref name="T"/> whose first element sits on a 64-byte boundary: a vector load that straddles two
/// cache lines costs two loads, and .NET arrays start wherever the allocator put them (8 or 16 bytes past a line).
/// The storage is pinned (on the pinned object heap), so the boundary found once at allocation stays valid.
/// </summary>
internal sealed class AlignedBuffer<T> where T : unmanaged
{
    /// <summary>A cache line, and the widest vector (512 bits).</summary>
    public const int Alignment = 64;

    private readonly T[] _storage;
    private readonly int _offset;

    public unsafe AlignedBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int slack = (Alignment + sizeof(T) - 1) / sizeof(T);
        _storage = GC.AllocateArray<T>(Sizes.Elements("aligned buffer elements (length + alignment slack)", (long)length + slack), pinned: true);
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        _offset = (int)((Alignment - address % Alignment) % Alignment) / sizeof(T);
        Length = length;
    }

    public int Length { get; }

    /// <summary>The first element (64-byte aligned).</summary>
    public ref T Start => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_storage), _offset);

    /// <summary>The first element's address: valid for the buffer's lifetime, since the storage never moves.</summary>
    public unsafe T* Pointer => (T*)Unsafe.AsPointer(ref Start);

    public Span<T> Span => _storage.AsSpan(_offset, Length);
}
