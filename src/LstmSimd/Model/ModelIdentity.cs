using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace LstmSimd;

/// <summary>
/// What a saved streaming state belongs to: a SHA-256 of the spec (every field, the cell variant's too) and every weight
/// value as the model was created from (fp32, before any packing), so that a state is refused by any other model and
/// accepted by the same one on any machine and kernel path. The weight format is recorded beside it, not in it.
/// </summary>
internal static class ModelIdentity
{
    public const int Length = 32;

    public static byte[] Of(LstmWeights weights)
    {
        LstmSpec spec = weights.Spec;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] field = new byte[8];
        void Int(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(field, value);
            hash.AppendData(field);
        }

        void Float(float value) => Int(BitConverter.SingleToInt32Bits(value));
        void Act(Activation activation)
        {
            Int((int)activation.Kind);
            Float(activation.Alpha);
            Float(activation.Beta);
        }

        void Values(float[] values)
        {
            Int(values.Length);
            if (BitConverter.IsLittleEndian)
            {
                hash.AppendData(MemoryMarshal.AsBytes(values.AsSpan()));
                return;
            }

            foreach (float value in values) Float(value);
        }

        Int(spec.InputSize);
        Int(spec.HiddenSize);
        Int(spec.NumLayers);
        Int(spec.Bidirectional ? 1 : 0);
        Int(spec.ProjectionSize);
        Int(spec.Bias ? 1 : 0);
        Int(spec.Cell.Peepholes ? 1 : 0);
        Float(spec.Cell.Clip);
        Int(spec.Cell.InputForget ? 1 : 0);
        Act(spec.Cell.Gate);
        Act(spec.Cell.Candidate);
        Act(spec.Cell.Output);
        for (int layer = 0; layer < spec.NumLayers; layer++)
            for (int d = 0; d < spec.Directions; d++)
            {
                LstmLayerWeights w = weights[layer, d];
                Values(w.WeightIh);
                Values(w.WeightHh);
                Values(w.BiasIh);
                Values(w.BiasHh);
                Values(w.WeightHr);
                Values(w.Peephole);
            }

        return hash.GetHashAndReset();
    }
}
