using System.Collections.Concurrent;
using LstmSimd.Tests.Support;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>
/// A session (or trainer) serves one caller at a time: a second caller meanwhile is refused with a message naming the
/// misuse, never served from the first call's buffers; a disposed one refuses every call, whatever its thread count.
/// </summary>
public class ConcurrentUseTests
{
    public static TheoryData<int> ThreadCounts() => [1, 2];

    [Fact]
    public void Two_threads_stepping_one_session_get_the_misuse_named_and_nothing_else_and_the_session_then_still_works()
    {
        var spec = new LstmSpec(256, 256);
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(spec, 3));
        using LstmSession session = model.CreateSession(maxBatch: 16);
        float[] x = LstmCase.Uniform(16 * 256, 4, 1);

        // Each thread steps into its own output.
        (int refused, Exception[] others) = Concurrency.Hammer(() => session.Step(x, 16, new float[16 * 256]), iterations: 100_000);
        Assert.Empty(others);
        Assert.True(refused > 0, "no call was refused in 30 s of simultaneous rounds");

        // One caller again: the same steps as on a fresh session, bit for bit.
        session.ResetState();
        using LstmSession fresh = model.CreateSession(maxBatch: 16);
        float[] expected = new float[16 * 256], actual = new float[16 * 256];
        for (int t = 0; t < 3; t++)
        {
            fresh.Step(x, 16, expected);
            session.Step(x, 16, actual);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Two_threads_running_one_training_session_get_the_misuse_named_and_nothing_else()
    {
        var spec = new LstmSpec(64, 128);
        using var session = new LstmTrainingSession(LstmWeights.CreateRandom(spec, 2), maxBatch: 8, maxSteps: 8);
        float[] input = LstmCase.Uniform(8 * 8 * 64, 5, 1);
        float[] gradOutput = LstmCase.Uniform(8 * 8 * 128, 6, 1);
        (int refused, Exception[] others) = Concurrency.Hammer(() =>
        {
            session.Forward(input, 8, 8, new float[8 * 8 * 128]);
            session.Backward(gradOutput);
        }, iterations: 100_000);
        Assert.Empty(others);
        Assert.True(refused > 0, "no call was refused in 30 s of simultaneous rounds");
    }

    [Fact]
    public void Two_threads_training_with_one_trainer_get_the_misuse_named_and_nothing_else()
    {
        var spec = new LstmSpec(64, 128);
        using var trainer = new LstmTrainer(LstmWeights.CreateRandom(spec, 2), new TrainableLinearHead(128, 2, new SeededRandom(1)),
            p => new SgdOptimizer(p, 1e-3), new LstmTrainerOptions { MaxBatch = 8, MaxSteps = 8 });
        float[] input = LstmCase.Uniform(8 * 8 * 64, 5, 1), targets = LstmCase.Uniform(8 * 2, 6, 1);
        (int refused, Exception[] others) = Concurrency.Hammer(() => trainer.Step(input, 8, 8, targets), iterations: 100_000);
        Assert.Empty(others);
        Assert.True(refused > 0, "no call was refused in 30 s of simultaneous rounds");
        Assert.True(double.IsFinite(trainer.Step(input, 8, 8, targets)));
    }

    [Theory]
    [MemberData(nameof(ThreadCounts))]
    public void A_disposed_session_refuses_every_call_whatever_its_thread_count(int threads)
    {
        var spec = new LstmSpec(3, 4);
        LstmSession session = LstmModel.Create(LstmWeights.CreateRandom(spec, 1), new LstmModelOptions { Threads = threads }).CreateSession(maxBatch: 1, maxSteps: 2);
        float[] x = new float[3], y = new float[4], h = new float[4], c = new float[4];
        session.Step(x, 1, y);
        session.Dispose();
        session.Dispose(); // again: nothing

        Assert.Throws<ObjectDisposedException>(() => session.Step(x, 1, y));
        Assert.Throws<ObjectDisposedException>(() => session.Forward(new float[6], 2, 1, new float[8]));
        Assert.Throws<ObjectDisposedException>(() => session.GetState(h, c, 1));
        Assert.Throws<ObjectDisposedException>(() => session.SetState(h, c, 1));
        Assert.Throws<ObjectDisposedException>(session.ResetState);
    }

    [Theory]
    [MemberData(nameof(ThreadCounts))]
    public void A_disposed_training_session_or_trainer_refuses_every_call(int threads)
    {
        var spec = new LstmSpec(3, 4);
        var session = new LstmTrainingSession(LstmWeights.CreateRandom(spec, 1), 1, 2, threads: threads);
        session.Forward(new float[6], 2, 1, new float[8]);
        session.Dispose();
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.Forward(new float[6], 2, 1, new float[8]));
        Assert.Throws<ObjectDisposedException>(() => session.Backward());
        Assert.Throws<ObjectDisposedException>(session.ZeroGradients);
        Assert.Throws<ObjectDisposedException>(session.RefreshWeights);
        Assert.Throws<ObjectDisposedException>(() => session.CreateModel());
        Assert.Throws<ObjectDisposedException>(() => session.Training = false);

        var trainer = new LstmTrainer(LstmWeights.CreateRandom(spec, 1), new TrainableLinearHead(4, 1, new SeededRandom(1)),
            p => new SgdOptimizer(p, 0.1), new LstmTrainerOptions { MaxBatch = 1, MaxSteps = 2, Threads = threads });
        trainer.Step(new float[6], 2, 1, new float[1]);
        trainer.Dispose();
        trainer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => trainer.Step(new float[6], 2, 1, new float[1]));
        Assert.Throws<ObjectDisposedException>(() => trainer.Evaluate(new float[6], 2, 1, new float[1]));
        Assert.Throws<ObjectDisposedException>(trainer.ResetState);
        Assert.Throws<ObjectDisposedException>(() => trainer.CarryState = true);
        Assert.Throws<ObjectDisposedException>(() => trainer.Session.Forward(new float[6], 2, 1, new float[8]));
    }

    [Fact]
    public void Dispose_during_a_call_on_worker_threads_lets_that_call_finish_whole_and_refuses_the_next()
    {
        var spec = new LstmSpec(16, 64, 2);
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(spec, 5), new LstmModelOptions { Threads = 2 });
        const int steps = 40;
        float[] input = LstmCase.Uniform(steps * 16, 6, 1), expected = new float[steps * 64];
        using (LstmSession single = LstmModel.Create(LstmWeights.CreateRandom(spec, 5)).CreateSession(1, steps))
            single.Forward(input, steps, 1, expected);

        LstmSession session = model.CreateSession(1, steps);
        session.ShareEveryStep(); // every step a hand-off to the worker: Dispose lands inside one
        int calls = 0;
        var failures = new ConcurrentQueue<string>();
        bool refused = false;
        var caller = new Thread(() =>
        {
            for (int call = 0; call < 100_000; call++)
            {
                float[] output = new float[steps * 64];
                Array.Fill(output, float.NaN);
                Interlocked.Increment(ref calls);
                try
                {
                    session.Forward(input, steps, 1, output);
                    if (!output.AsSpan().SequenceEqual(expected)) failures.Enqueue($"call {call}: a wrong output");
                }
                catch (ObjectDisposedException)
                {
                    if (!output.All(float.IsNaN)) failures.Enqueue($"call {call}: refused after writing part of its output");
                    refused = true;
                    return;
                }
                catch (Exception e)
                {
                    failures.Enqueue($"call {call}: {e}");
                    return;
                }
            }
        }) { IsBackground = true };
        caller.Start();
        SpinWait.SpinUntil(() => Volatile.Read(ref calls) >= 3);
        session.Dispose();
        Assert.True(caller.Join(TimeSpan.FromSeconds(60)), "the calling thread did not finish");
        Assert.Empty(failures);
        Assert.True(refused);
    }
}
