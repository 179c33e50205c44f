namespace LstmSimd.IO.Onnx;

/// <summary>
/// The field numbers of onnx.proto's messages that LstmSimd reads (<see cref="OnnxModel"/>, <see cref="OnnxTensorProto"/>)
/// and writes (<see cref="OnnxExport"/>): one list, so the reader and the writer cannot disagree.
/// </summary>
internal static class OnnxFields
{
    /// <summary>ModelProto.</summary>
    public static class Model
    {
        public const int IrVersion = 1, ProducerName = 2, ProducerVersion = 3, DocString = 6, Graph = 7, OpsetImport = 8;
    }

    /// <summary>OperatorSetIdProto.</summary>
    public static class OperatorSet
    {
        public const int Domain = 1, Version = 2;
    }

    /// <summary>GraphProto.</summary>
    public static class Graph
    {
        public const int Node = 1, Name = 2, Initializer = 5, Input = 11, Output = 12;
    }

    /// <summary>NodeProto.</summary>
    public static class Node
    {
        public const int Input = 1, Output = 2, Name = 3, OpType = 4, Attribute = 5, Domain = 7;
    }

    /// <summary>AttributeProto, and its AttributeType values.</summary>
    public static class Attribute
    {
        public const int Name = 1, F = 2, I = 3, S = 4, T = 5, Floats = 7, Ints = 8, Strings = 9, Type = 20, RefAttrName = 21;

        public const int TypeFloat = 1, TypeInt = 2, TypeString = 3, TypeTensor = 4, TypeFloats = 6, TypeInts = 7, TypeStrings = 8;
    }

    /// <summary>TensorProto.</summary>
    public static class Tensor
    {
        public const int Dims = 1, DataType = 2, Segment = 3, FloatData = 4, Int32Data = 5, StringData = 6, Int64Data = 7, Name = 8, RawData = 9,
            DoubleData = 10, Uint64Data = 11, ExternalData = 13, DataLocation = 14;
    }

    /// <summary>StringStringEntryProto (TensorProto.external_data).</summary>
    public static class StringEntry
    {
        public const int Key = 1, Value = 2;
    }

    /// <summary>ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto and its Dimension.</summary>
    public static class ValueInfo
    {
        public const int Name = 1, Type = 2;

        /// <summary>TypeProto.tensor_type.</summary>
        public const int TensorType = 1;

        /// <summary>TypeProto.Tensor.elem_type and shape.</summary>
        public const int ElementType = 1, Shape = 2;

        /// <summary>TensorShapeProto.dim.</summary>
        public const int Dim = 1;

        /// <summary>TensorShapeProto.Dimension.dim_value and dim_param.</summary>
        public const int DimValue = 1, DimParam = 2;
    }
}
