namespace LstmSimd.Forecasting;

/// <summary>A time-series file or its use is malformed: a missing column, a cell that is not a number (with its line), too few rows.</summary>
public sealed class TimeSeriesFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TimeSeriesFormatException()
    {
    }

    /// <summary>Creates the exception with a message that says what is wrong and where.</summary>
    public TimeSeriesFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public TimeSeriesFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
