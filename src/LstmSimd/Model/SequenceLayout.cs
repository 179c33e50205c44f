namespace LstmSimd;

/// <summary>How a sequence tensor is laid out in memory.</summary>
public enum SequenceLayout
{
    /// <summary>[T, B, features]: PyTorch's default (<c>batch_first=False</c>), ONNX <c>layout=0</c>.</summary>
    TimeMajor,

    /// <summary>[B, T, features]: PyTorch <c>batch_first=True</c>, ONNX <c>layout=1</c>.</summary>
    BatchFirst,
}
