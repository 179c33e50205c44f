using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LstmSimd.Kernels;

namespace LstmSimd.Benchmarks;

/// <summary>
/// σ and tanh over 4096 floats (in L1): LstmSimd's polynomial activations at each width, against
/// <see cref="TensorPrimitives"/> (the baseline: the fastest thing a .NET user has without us) and a scalar
/// <see cref="MathF"/> loop. In the kernels these run fused in registers; this measures the formulas alone.
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ActivationBenchmarks
{
    private readonly float[] _source = new float[4096];
    private readonly float[] _destination = new float[4096];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        for (int i = 0; i < _source.Length; i++) _source[i] = (float)(random.NextDouble() * 16 - 8);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Sigmoid")]
    public void Sigmoid_TensorPrimitives() => TensorPrimitives.Sigmoid(_source, _destination);

    [Benchmark, BenchmarkCategory("Sigmoid")]
    public void Sigmoid_MathF()
    {
        for (int i = 0; i < _source.Length; i++) _destination[i] = 1f / (1f + MathF.Exp(-_source[i]));
    }

    [Benchmark, BenchmarkCategory("Sigmoid")]
    public void Sigmoid_Scalar() => Activations.Sigmoid<VecScalar>(_source, _destination);

    [Benchmark, BenchmarkCategory("Sigmoid")]
    public void Sigmoid_Vector128() => Activations.Sigmoid<Vec128>(_source, _destination);

    [Benchmark, BenchmarkCategory("Sigmoid")]
    public void Sigmoid_Vector256() => Activations.Sigmoid<Vec256>(_source, _destination);

    [Benchmark, BenchmarkCategory("Sigmoid")]
    public void Sigmoid_Vector512() => Activations.Sigmoid<Vec512>(_source, _destination);

    [Benchmark(Baseline = true), BenchmarkCategory("Tanh")]
    public void Tanh_TensorPrimitives() => TensorPrimitives.Tanh(_source, _destination);

    [Benchmark, BenchmarkCategory("Tanh")]
    public void Tanh_MathF()
    {
        for (int i = 0; i < _source.Length; i++) _destination[i] = MathF.Tanh(_source[i]);
    }

    [Benchmark, BenchmarkCategory("Tanh")]
    public void Tanh_Scalar() => Activations.Tanh<VecScalar>(_source, _destination);

    [Benchmark, BenchmarkCategory("Tanh")]
    public void Tanh_Vector128() => Activations.Tanh<Vec128>(_source, _destination);

    [Benchmark, BenchmarkCategory("Tanh")]
    public void Tanh_Vector256() => Activations.Tanh<Vec256>(_source, _destination);

    [Benchmark, BenchmarkCategory("Tanh")]
    public void Tanh_Vector512() => Activations.Tanh<Vec512>(_source, _destination);
}
