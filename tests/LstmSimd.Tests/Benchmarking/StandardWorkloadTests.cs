using LstmSimd.Benchmarking;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Benchmarking;

/// <summary>The standard workloads are the design document's table, so that our numbers and the peers' compare by name.</summary>
public class StandardWorkloadTests
{
    [Fact]
    public void The_inference_workloads_are_the_design_documents_with_input_equal_to_hidden()
    {
        (string Name, int T, int B, int H)[] expected =
        [
            ("seq-h32", 100, 1, 32), ("seq-h64", 100, 1, 64), ("seq-h128", 100, 1, 128), ("seq-h256", 100, 1, 256),
            ("seq-h512", 25, 1, 512), ("seq-b4-h1024", 25, 4, 1024), ("seq-b64-h512", 50, 64, 512),
            ("step-h64", 1, 1, 64), ("step-h256", 1, 1, 256), ("train-b32-h256", 50, 32, 256), ("train-b1-h64", 100, 1, 64),
            ("gru-seq-h64", 100, 1, 64), ("gru-seq-h256", 100, 1, 256), ("gru-seq-b64-h512", 50, 64, 512), ("gru-step-h64", 1, 1, 64), ("gru-step-h256", 1, 1, 256),
            ("gru-original-seq-h256", 100, 1, 256), ("gru-original-seq-b64-h512", 50, 64, 512), ("gru-original-step-h256", 1, 1, 256),
        ];
        Assert.Equal(expected, StandardWorkload.All.Select(w => (w.Name, w.Steps, w.Batch, w.HiddenSize)));
        Assert.All(StandardWorkload.All, w => Assert.Equal(w.HiddenSize, w.InputSize));
        Assert.All(StandardWorkload.All, w => Assert.Equal(
            w.Name.StartsWith("gru-original-", StringComparison.Ordinal) ? WorkloadCell.GruOriginal : w.Name.StartsWith("gru-", StringComparison.Ordinal) ? WorkloadCell.Gru : WorkloadCell.Lstm, w.Cell));
        Assert.All(StandardWorkload.All, w => Assert.Equal(w.Name.Replace("gru-original-", "", StringComparison.Ordinal).Replace("gru-", "", StringComparison.Ordinal).Split('-')[0] switch
        {
            "step" => WorkloadKind.Step,
            "train" => WorkloadKind.Train,
            _ => WorkloadKind.Sequence,
        }, w.Kind));
    }

    [Fact]
    public void Flop_per_call_is_two_B_4H_times_I_plus_H_times_T_and_three_times_that_to_train()
    {
        Assert.Equal(3 * 2.0 * 32 * 4 * 256 * 512 * 50, StandardWorkload.Get("train-b32-h256").FlopPerCall);
        Assert.Equal(2.0 * 1 * 4 * 256 * 512 * 100, StandardWorkload.Get("seq-h256").FlopPerCall);
        Assert.Equal(2.0 * 64 * 4 * 512 * 1024 * 50, StandardWorkload.Get("seq-b64-h512").FlopPerCall);
        Assert.Equal(16L * 64 * 128, StandardWorkload.Get("step-h64").WeightBytesPerStep);
    }

    [Fact]
    public void A_GRU_workload_counts_its_own_three_gates_not_the_four_slots_LstmSimd_computes()
    {
        Assert.Equal(2.0 * 1 * 3 * 256 * 512 * 100, StandardWorkload.Get("gru-seq-h256").FlopPerCall);
        Assert.Equal(12L * 256 * 512, StandardWorkload.Get("gru-step-h256").WeightBytesPerStep);
        Assert.Equal(WorkloadCell.Gru, StandardWorkload.Get("gru-seq-b64-h512").Cell);
        Assert.Equal(WorkloadCell.Lstm, StandardWorkload.Get("seq-b64-h512").Cell);
        Assert.Equal(2.0 * 64 * 3 * 512 * 1024 * 50, StandardWorkload.Get("gru-original-seq-b64-h512").FlopPerCall);
        Assert.False(StandardWorkload.Get("gru-original-seq-h256").GruSpec.LinearBeforeReset);
        Assert.True(StandardWorkload.Get("gru-seq-h256").GruSpec.LinearBeforeReset);
    }

    [Fact]
    public void The_GRU_fast_path_matches_the_GRU_reference_on_its_smallest_workloads()
    {
        foreach (string name in new[] { "gru-seq-h64", "gru-step-h64", "gru-original-step-h256" })
        {
            using var runner = new WorkloadRunner(StandardWorkload.Get(name));
            runner.Invoke();
            Assert.Null(runner.Model);
            double[] expected = runner.InvokeReference();
            Tolerance.AssertClose(expected, runner.Output, name);
        }
    }

    [Fact]
    public void Names_are_found_case_insensitively_and_an_unknown_name_lists_the_known_ones()
    {
        Assert.Same(StandardWorkload.Get("seq-h64"), StandardWorkload.Get(" SEQ-H64 "));
        Assert.False(StandardWorkload.TryGet("train-b32-h512", out _));
        var error = Assert.Throws<ArgumentException>(() => StandardWorkload.Get("seq-h100"));
        Assert.Contains("seq-b64-h512", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_runner_builds_the_workload_shape_and_writes_an_output_of_T_B_H_floats()
    {
        using var runner = new WorkloadRunner(StandardWorkload.Get("step-h64"), new LstmModelOptions { Kernel = KernelPath.Vector128 });
        runner.Invoke();
        Assert.Equal(KernelPath.Vector128, runner.KernelPath);
        Assert.Equal(64, runner.Output.Length);
        Assert.Contains(runner.Output.ToArray(), v => v != 0);
    }

    [Fact]
    public void A_training_workload_takes_steps_that_lower_the_loss_on_the_threads_asked_for()
    {
        using var runner = new WorkloadRunner(StandardWorkload.Get("train-b1-h64"), new LstmModelOptions { Threads = 2 });
        runner.Invoke();
        double first = runner.LastLoss;
        for (int i = 0; i < 20; i++) runner.Invoke();
        Assert.True(double.IsFinite(first));
        Assert.True(runner.LastLoss < first, $"loss {first} -> {runner.LastLoss}");
        Assert.Equal(2, runner.Threads);
    }

    [Fact]
    public void The_fast_path_matches_the_reference_on_the_smallest_workload()
    {
        using var runner = new WorkloadRunner(StandardWorkload.Get("seq-h32"));
        runner.Invoke();
        double[] expected = runner.InvokeReference();
        Assert.Equal(expected.Length, runner.Output.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - runner.Output[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i]), $"output[{i}]: {runner.Output[i]} vs {expected[i]}");
    }
}
