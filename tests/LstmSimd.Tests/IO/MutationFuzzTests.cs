using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using LstmSimd.IO;
using Xunit;
using Xunit.Abstractions;

namespace LstmSimd.Tests.IO;

/// <summary>
/// Mutation fuzzing: valid safetensors and ONNX files are bit-flipped, truncated, edited in their headers
/// and overwritten with random bytes, then pushed through the whole pipeline a user's <c>lstmsimd run</c> takes:
/// parse, import, build the fast model and run one small forward pass. Either the file runs, or it is refused
/// with a <see cref="ModelFormatException"/> (bad file), an <see cref="ArgumentException"/> (a model the fast
/// path cannot build or run with the shapes it holds) or a <see cref="NotSupportedException"/> (an ONNX graph
/// that is not one LSTM stack); any other exception fails the test with the seed to replay it.
/// </summary>
/// <remarks>
/// The normal run checks <see cref="DefaultCases"/> mutations. For a long run:
/// <code>LSTMSIMD_FUZZ_CASES=1000000 dotnet test -c Release --filter "FullyQualifiedName~MutationFuzzTests"</code>
/// (<c>LSTMSIMD_FUZZ_SEED</c> fixes the seed to replay a run).
/// </remarks>
public sealed class MutationFuzzTests(ITestOutputHelper log)
{
    public const int DefaultCases = 10_000;

    private static readonly Lazy<byte[][]> Seeds = new(() =>
    {
        var seeds = new List<byte[]>
        {
            File.ReadAllBytes(GoldenRunner.GoldenPath("pytorch", "projection.safetensors")),
            File.ReadAllBytes(GoldenRunner.GoldenPath("pytorch", "cell.safetensors")),
            File.ReadAllBytes(GoldenRunner.GoldenPath("onnx", "peepholes.safetensors")),
            LstmModelFile.CreateWriter(LstmWeights.CreateRandom(new LstmSpec(3, 4, 2, bidirectional: true)
            {
                Cell = new CellVariant(true, 2f, false, new Activation(ActivationKind.HardSigmoid, 0.3f, 0.4f), Activation.Tanh, Activation.Tanh),
            }, 1), new LinearHead(8, 2, new float[16])).ToArray(),
            KerasLstm.Export(LstmWeights.CreateRandom(new LstmSpec(3, 4), 2), [new KerasLayerNames("lstm/")]).ToArray(),
        };
        foreach (string name in new[] { "peepholes", "activations", "sequence_lens_bidirectional", "layout_batch_first" })
            seeds.Add(File.ReadAllBytes(GoldenRunner.GoldenPath("onnx", name + ".onnx")));
        foreach (string name in new[] { "two_layer_bidirectional", "module_with_head" })
            seeds.Add(FuzzPipeline.TorchPickleOf(GoldenRunner.GoldenPath("pytorch-pt", name + ".pt")));
        return [.. seeds];
    });

    /// <summary>Seeds from here on are the pickles of torch.save files (before: safetensors, then ONNX).</summary>
    private const int FirstTorchPickle = 9;

    private const string JsonBytes = "{}[]\":,0123456789-+.eE \\u\"F32I64__metadata__";

    [Fact]
    public void Mutated_model_files_run_or_are_refused_with_a_typed_exception_and_nothing_else()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("LSTMSIMD_FUZZ_CASES"), CultureInfo.InvariantCulture, out int n) && n > 0 ? n : DefaultCases;
        var outcomes = new int[3]; // ran, refused as a bad file, refused as a model the fast path cannot build or run
        Gen<(int Seed, int Kind, int A, int B, byte[] Bytes)> mutation =
            from seed in Gen.Choose(0, Seeds.Value.Length - 1)
            from kind in Gen.Choose(0, 5)
            from a in Gen.Choose(0, int.MaxValue)
            from b in Gen.Choose(0, int.MaxValue)
            from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(x => (byte)x), 8)
            select (seed, kind, a, b, bytes);

        Property property = Prop.ForAll(mutation.ToArbitrary(), m =>
        {
            byte[] file = Mutate(Seeds.Value[m.Seed], m.Kind, m.A, m.B, m.Bytes);
            try
            {
                if (m.Seed >= FirstTorchPickle) FuzzPipeline.RunTorchPickle(file);
                else if (m.Seed >= 5) FuzzPipeline.RunOnnx(file);
                else FuzzPipeline.RunSafetensors(file);
                outcomes[0]++;
            }
            catch (ModelFormatException)
            {
                outcomes[1]++;
            }
            catch (Exception e) when (FuzzPipeline.IsRefusal(e))
            {
                outcomes[2]++;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"seed file {m.Seed}, mutation {m.Kind} ({m.A}, {m.B}) let {e.GetType().Name} escape: {e.Message}", e);
            }
        });

        ulong replaySeed = ulong.TryParse(Environment.GetEnvironmentVariable("LSTMSIMD_FUZZ_SEED"), CultureInfo.InvariantCulture, out ulong s) ? s : (ulong)Random.Shared.NextInt64();
        Config config = Config.QuickThrowOnFailure.WithMaxTest(cases).WithQuietOnSuccess(true).WithReplay(new Replay(new Rnd(replaySeed, 0x9E3779B97F4A7C15UL), null));
        try
        {
            Check.One(config, property);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"replay with LSTMSIMD_FUZZ_SEED={replaySeed.ToString(CultureInfo.InvariantCulture)}: {e.Message}", e);
        }

        log.WriteLine($"{cases} mutations (LSTMSIMD_FUZZ_SEED={replaySeed.ToString(CultureInfo.InvariantCulture)}): {outcomes[0]} ran, {outcomes[1]} refused with a ModelFormatException, {outcomes[2]} with an ArgumentException or NotSupportedException");
        Assert.True(outcomes[1] > cases / 4, "most mutations should break something");
        Assert.True(outcomes[0] > cases / 20, "some mutations should still run, or the forward pass is never reached");
    }

    private static byte[] Mutate(byte[] seed, int kind, int a, int b, byte[] bytes)
    {
        byte[] file = (byte[])seed.Clone();
        int headerEnd = file.Length > 8 && file[8] == (byte)'{' ? (int)Math.Min(8 + BitConverter.ToUInt64(file, 0), (ulong)file.Length) : Math.Min(file.Length, 256);
        switch (kind)
        {
            case 0: // 1–8 bit flips anywhere
                for (int i = 0; i <= b % 8; i++)
                {
                    int at = (int)((uint)(a + i * 7919 + bytes[i] * 104729) % (uint)file.Length);
                    file[at] ^= (byte)(1 << (bytes[i] & 7));
                }

                return file;
            case 1: // truncation
                return file[..(a % file.Length)];
            case 2: // header edits: JSON-significant characters (safetensors) or tag-like bytes (ONNX) in the first bytes
                for (int i = 0; i <= b % 4; i++)
                {
                    int at = (a + i * 31 + bytes[i]) % headerEnd;
                    file[at] = (byte)JsonBytes[(bytes[(i + 4) % 8] + b) % JsonBytes.Length];
                }

                return file;
            case 3: // overwrite a run with random bytes
            {
                int at = a % file.Length;
                for (int i = 0; i < bytes.Length && at + i < file.Length; i++) file[at + i] = bytes[i];
                return file;
            }

            case 4: // the length prefix (safetensors) or first varint (ONNX) replaced
                bytes.CopyTo(file, 0);
                if ((b & 1) == 0) file[5] = file[6] = file[7] = 0; // keep it plausible half the time
                return file;
            default: // splice: a slice of the file inserted elsewhere
            {
                int from = a % file.Length, length = Math.Min(b % 64, file.Length - from), to = (a / 7) % file.Length;
                return [.. file[..to], .. file.AsSpan(from, length).ToArray(), .. file[to..]];
            }
        }
    }
}
