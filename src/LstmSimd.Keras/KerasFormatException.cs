using LstmSimd.IO;

namespace LstmSimd.Keras;

/// <summary>
/// A Keras file is malformed (zip, JSON, HDF5), or its model uses something LstmSimd cannot run; the message names the
/// layer and the setting. A <see cref="ModelFormatException"/>, so an <see cref="IOException"/>.
/// </summary>
public sealed class KerasFormatException : ModelFormatException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public KerasFormatException() : base("keras: the model file is malformed.") { }

    /// <summary>Creates an exception that says what is wrong.</summary>
    public KerasFormatException(string message) : base("keras: " + message) { }

    /// <summary>Creates an exception that says what is wrong, wrapping the error that revealed it.</summary>
    public KerasFormatException(string message, Exception innerException) : base("keras: " + message, innerException) { }
}
