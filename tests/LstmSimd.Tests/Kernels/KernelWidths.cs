using LstmSimd.Kernels;

namespace LstmSimd.Tests.Kernels;

/// <summary>The span-level activations of each vector width, so that tests run every width in-process (widths the CPU lacks run in software).</summary>
public sealed record KernelWidths(string Name, KernelWidths.SpanFunction Sigmoid, KernelWidths.SpanFunction Tanh)
{
    public delegate void SpanFunction(ReadOnlySpan<float> source, Span<float> destination);

    public static IReadOnlyList<KernelWidths> All { get; } =
    [
        new("scalar", Activations.Sigmoid<VecScalar>, Activations.Tanh<VecScalar>),
        new("vector128", Activations.Sigmoid<Vec128>, Activations.Tanh<Vec128>),
        new("vector256", Activations.Sigmoid<Vec256>, Activations.Tanh<Vec256>),
        new("vector512", Activations.Sigmoid<Vec512>, Activations.Tanh<Vec512>),
    ];

    public static KernelWidths Get(string name) => All.Single(w => w.Name == name);
}
