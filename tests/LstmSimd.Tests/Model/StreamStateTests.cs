using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>
/// Saved streaming states: a restored pool or session continues bit for bit as the one that saved it; a state for another
/// model, format, key type or size, and a truncated or corrupted one, are refused with the reason, the live state untouched.
/// </summary>
public class StreamStateTests
{
    private static readonly LstmSpec Spec = new(4, 12, 2, projectionSize: 5);

    private static LstmModel Model(int seed = 1, WeightFormat format = WeightFormat.Float32) =>
        LstmModel.Create(LstmWeights.CreateRandom(Spec, seed), new LstmModelOptions { Weights = format });

    private static readonly string[] Keys = ["pump-1", "pump-2", "ventilator ü", "x"];

    /// <summary>A pool of <see cref="Keys"/> stepped a few ticks with different subsets.</summary>
    private static LstmStreamPool<string> SteppedPool(LstmModel model)
    {
        var pool = new LstmStreamPool<string>(model, 8);
        foreach (string key in Keys) pool.Add(key);
        Tick(pool, Keys, 1);
        Tick(pool, ["x", "pump-1"], 2);
        Tick(pool, ["ventilator ü"], 3);
        return pool;
    }

    private static float[] Tick(LstmStreamPool<string> pool, string[] keys, int seed)
    {
        float[] outputs = new float[keys.Length * Spec.OutputHiddenSize];
        pool.Step(keys, LstmCase.Uniform(keys.Length * Spec.InputSize, seed, 1), outputs);
        return outputs;
    }

    private static byte[] Saved(LstmStreamPool<string> pool)
    {
        using var stream = new MemoryStream();
        pool.SaveState(stream);
        return stream.ToArray();
    }

    [Fact]
    public void A_restored_pool_continues_bit_for_bit_in_a_new_model_instance_and_through_a_file()
    {
        using LstmStreamPool<string> original = SteppedPool(Model());
        string path = Path.Combine(Path.GetTempPath(), $"lstmsimd-pool-{Guid.NewGuid():N}.state");
        try
        {
            original.SaveState(path);
            using var restored = new LstmStreamPool<string>(Model(), 6);
            restored.Add("someone else"); // replaced by the saved streams
            restored.RestoreState(path);
            Assert.Equal(Keys.Length, restored.Count);
            Assert.False(restored.Contains("someone else"));
            for (int t = 0; t < 3; t++)
            {
                string[] keys = t == 1 ? ["pump-2"] : [.. Keys.Reverse()];
                Assert.Equal(Tick(original, keys, 10 + t), Tick(restored, keys, 10 + t));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_restored_session_continues_bit_for_bit_and_rows_past_the_saved_ones_start_from_zero()
    {
        LstmModel model = Model();
        using LstmSession original = model.CreateSession(maxBatch: 3);
        float[] x = LstmCase.Uniform(3 * Spec.InputSize, 5, 1), expected = new float[3 * Spec.OutputHiddenSize], actual = new float[expected.Length];
        original.Step(x, 3, expected);
        original.Step(x.AsSpan(0, 2 * Spec.InputSize), 2, expected.AsSpan(0, 2 * Spec.OutputHiddenSize));
        using var saved = new MemoryStream();
        original.SaveState(saved);

        using LstmSession restored = Model().CreateSession(maxBatch: 4);
        restored.Step(LstmCase.Uniform(4 * Spec.InputSize, 6, 1), 4, new float[4 * Spec.OutputHiddenSize]); // overwritten
        saved.Position = 0;
        restored.RestoreState(saved);
        original.Step(x, 3, expected);
        restored.Step(x, 3, actual);
        Assert.Equal(expected, actual);

        float[] h = new float[Spec.NumLayers * 4 * Spec.OutputHiddenSize], c = new float[Spec.NumLayers * 4 * Spec.HiddenSize];
        restored.RestoreState(new MemoryStream(saved.ToArray()));
        restored.GetState(h, c, 4);
        for (int layer = 0; layer < Spec.NumLayers; layer++)
            Assert.All(h.AsSpan((layer * 4 + 3) * Spec.OutputHiddenSize, Spec.OutputHiddenSize).ToArray(), v => Assert.Equal(0f, v));
    }

    public static TheoryData<string> Refusals() =>
        ["another model", "another format", "another key type", "too many streams", "a session's rows", "truncated header", "truncated body",
         "a flipped state byte", "a flipped key byte", "a flipped checksum byte", "another version", "not a state", "empty"];

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_state_that_does_not_fit_is_refused_with_the_reason_and_the_live_pool_is_left_as_it_was(string problem)
    {
        using LstmStreamPool<string> source = SteppedPool(Model());
        byte[] bytes = Saved(source);
        using var live = new LstmStreamPool<string>(Model(), 8);
        live.Add("live");
        Tick(live, ["live"], 7);
        byte[] before = Saved(live);

        Exception refusal;
        string reason;
        switch (problem)
        {
            case "another model":
                (refusal, reason) = (Refuse(() => new LstmStreamPool<string>(Model(seed: 2), 8).RestoreState(new MemoryStream(bytes))), "another model");
                break;
            case "another format":
                (refusal, reason) = (Refuse(() => new LstmStreamPool<string>(Model(format: WeightFormat.BFloat16), 8).RestoreState(new MemoryStream(bytes))), "stored as Float32");
                break;
            case "another key type":
                (refusal, reason) = (Refuse(() => new LstmStreamPool<long>(Model(), 8).RestoreState(new MemoryStream(bytes))), "keyed by string");
                break;
            case "too many streams":
                (refusal, reason) = (Refuse(() => new LstmStreamPool<string>(Model(), 3).RestoreState(new MemoryStream(bytes))), "more than the 3");
                break;
            case "a session's rows":
                using (LstmSession session = Model().CreateSession(2))
                {
                    var rows = new MemoryStream();
                    session.SaveState(rows);
                    (refusal, reason) = (Refuse(() => live.RestoreState(new MemoryStream(rows.ToArray()))), "session's rows");
                }

                break;
            default:
                byte[] damaged = Damage(bytes, problem, out reason);
                refusal = Refuse(() => live.RestoreState(new MemoryStream(damaged)));
                break;
        }

        Assert.IsType<InvalidDataException>(refusal);
        Assert.Contains(reason, refusal.Message);
        Assert.Equal(before, Saved(live));
    }

    [Fact]
    public void Every_truncation_and_every_flipped_byte_of_a_saved_session_is_refused_and_the_live_state_is_kept()
    {
        using LstmSession source = Model().CreateSession(2);
        source.Step(LstmCase.Uniform(2 * Spec.InputSize, 1, 1), 2, new float[2 * Spec.OutputHiddenSize]);
        var saved = new MemoryStream();
        source.SaveState(saved);
        byte[] bytes = saved.ToArray();
        using LstmSession live = Model().CreateSession(2);
        live.Step(LstmCase.Uniform(2 * Spec.InputSize, 8, 1), 2, new float[2 * Spec.OutputHiddenSize]);
        float[] h = new float[Spec.NumLayers * 2 * Spec.OutputHiddenSize], c = new float[Spec.NumLayers * 2 * Spec.HiddenSize];
        float[] hAfter = new float[h.Length], cAfter = new float[c.Length];
        live.GetState(h, c, 2);
        for (int length = 0; length < bytes.Length; length++)
            Assert.Throws<InvalidDataException>(() => live.RestoreState(new MemoryStream(bytes[..length])));
        for (int at = 0; at < bytes.Length; at++)
        {
            byte[] flipped = [.. bytes];
            flipped[at] ^= 0x10;
            Assert.Throws<InvalidDataException>(() => live.RestoreState(new MemoryStream(flipped)));
        }

        live.GetState(hAfter, cAfter, 2);
        Assert.Equal(h, hAfter);
        Assert.Equal(c, cAfter);
        Assert.Contains(h, v => v != 0);
    }

    [Fact]
    public void A_failed_save_to_a_file_leaves_the_previous_file_whole()
    {
        using LstmStreamPool<string> pool = SteppedPool(Model());
        string path = Path.Combine(Path.GetTempPath(), $"lstmsimd-pool-{Guid.NewGuid():N}.state");
        try
        {
            pool.SaveState(path);
            byte[] first = File.ReadAllBytes(path);
            using var guids = new LstmStreamPool<object>(Model(), 2);
            guids.Add(new object());
            Assert.Contains("string, int, long or Guid", Assert.Throws<NotSupportedException>(() => guids.SaveState(path)).Message);
            Assert.Equal(first, File.ReadAllBytes(path));
            Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $".{Path.GetFileName(path)}*"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Int_long_and_guid_keys_survive_a_round_trip()
    {
        Guid guid = Guid.NewGuid();
        Assert.True(RoundTrips(new[] { int.MinValue, 0, 7 }));
        Assert.True(RoundTrips(new[] { long.MaxValue, -1L }));
        Assert.True(RoundTrips(new[] { guid, Guid.Empty }));
    }

    private static bool RoundTrips<TKey>(TKey[] keys) where TKey : notnull
    {
        using var pool = new LstmStreamPool<TKey>(Model(), 4);
        foreach (TKey key in keys) pool.Add(key);
        pool.Step(keys, LstmCase.Uniform(keys.Length * Spec.InputSize, 3, 1), new float[keys.Length * Spec.OutputHiddenSize]);
        var saved = new MemoryStream();
        pool.SaveState(saved);
        saved.Position = 0;
        using var restored = new LstmStreamPool<TKey>(Model(), 4);
        restored.RestoreState(saved);
        float[] h = new float[Spec.NumLayers * Spec.OutputHiddenSize], c = new float[Spec.NumLayers * Spec.HiddenSize];
        float[] h2 = new float[h.Length], c2 = new float[c.Length];
        foreach (TKey key in keys)
        {
            pool.GetState(key, h, c);
            restored.GetState(key, h2, c2);
            if (!h.SequenceEqual(h2) || !c.SequenceEqual(c2)) return false;
        }

        return restored.Count == keys.Length;
    }

    private static Exception Refuse(Action restore) => Assert.ThrowsAny<Exception>(restore);

    /// <summary>The saved bytes with one kind of damage, and what the refusal must say about it.</summary>
    private static byte[] Damage(byte[] bytes, string problem, out string reason)
    {
        const int Header = 72; // see StreamStateFile
        byte[] damaged = [.. bytes];
        switch (problem)
        {
            case "truncated header":
                reason = "truncated";
                return bytes[..40];
            case "truncated body":
                reason = "truncated";
                return bytes[..(bytes.Length - 5)];
            case "a flipped state byte":
                damaged[bytes.Length - 40] ^= 1;
                reason = "checksum";
                return damaged;
            case "a flipped key byte":
                damaged[Header + 2] ^= 1;
                reason = "checksum";
                return damaged;
            case "a flipped checksum byte":
                damaged[^1] ^= 0x80;
                reason = "checksum";
                return damaged;
            case "another version":
                damaged[8] = 9;
                reason = "version 9";
                return damaged;
            case "not a state":
                reason = "does not start with LSTMSTAT";
                return "PK\u0003\u0004 something else entirely"u8.ToArray();
            default:
                reason = "does not start with LSTMSTAT";
                return [];
        }
    }
}
