namespace LstmSimd.IO;

/// <summary>
/// A model or tensor file is malformed, hostile, or does not hold what was asked for. Every importer in
/// <see cref="LstmSimd.IO"/> reports bad input through this type or one of its subclasses, with a message
/// that says what is wrong and where; nothing else escapes from parsing a file's contents.
/// It derives from <see cref="IOException"/> (<see cref="InvalidDataException"/> is sealed), so code that
/// already handles I/O failures around file loading handles bad files too.
/// </summary>
public class ModelFormatException : IOException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public ModelFormatException() : base("The model file is malformed.") { }

    /// <summary>Creates an exception that says what is wrong.</summary>
    public ModelFormatException(string message) : base(message) { }

    /// <summary>Creates an exception that says what is wrong, wrapping the error that revealed it.</summary>
    public ModelFormatException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>A safetensors file breaks the format's rules (header length, JSON, dtypes, shapes, offsets).</summary>
public sealed class SafetensorsFormatException : ModelFormatException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public SafetensorsFormatException() : base("The safetensors file is malformed.") { }

    /// <summary>Creates an exception that says what is wrong.</summary>
    public SafetensorsFormatException(string message) : base("safetensors: " + message) { }

    /// <summary>Creates an exception that says what is wrong, wrapping the error that revealed it.</summary>
    public SafetensorsFormatException(string message, Exception innerException) : base("safetensors: " + message, innerException) { }
}

/// <summary>An ONNX file is malformed protobuf, or its LSTM nodes use something LstmSimd cannot import.</summary>
public sealed class OnnxFormatException : ModelFormatException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public OnnxFormatException() : base("The ONNX file is malformed.") { }

    /// <summary>Creates an exception that says what is wrong.</summary>
    public OnnxFormatException(string message) : base("onnx: " + message) { }

    /// <summary>Creates an exception that says what is wrong, wrapping the error that revealed it.</summary>
    public OnnxFormatException(string message, Exception innerException) : base("onnx: " + message, innerException) { }
}

/// <summary>
/// A well-formed tensor file does not hold the parameters an importer expects: a tensor is missing,
/// has the wrong shape or dtype, or the shapes do not describe a valid LSTM.
/// </summary>
public sealed class WeightMappingException : ModelFormatException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public WeightMappingException() : base("The file does not hold the expected LSTM parameters.") { }

    /// <summary>Creates an exception that says what is wrong.</summary>
    public WeightMappingException(string message) : base(message) { }

    /// <summary>Creates an exception that says what is wrong, wrapping the error that revealed it.</summary>
    public WeightMappingException(string message, Exception innerException) : base(message, innerException) { }
}
