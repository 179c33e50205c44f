namespace LstmSimd.IO;

/// <summary>Limits applied while opening a safetensors file.</summary>
public sealed record SafetensorsReadOptions
{
    /// <summary>The default header-length cap: 100,000,000 bytes, as in the reference implementation.</summary>
    public const long DefaultMaxHeaderLength = 100_000_000;

    /// <summary>The defaults.</summary>
    public static SafetensorsReadOptions Default { get; } = new();

    /// <summary>The largest JSON header accepted, in bytes; a longer one is refused before anything is allocated.</summary>
    public long MaxHeaderLength { get; init; } = DefaultMaxHeaderLength;
}
