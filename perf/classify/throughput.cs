#:project ../../src/LstmSimd.Text/LstmSimd.Text.csproj
#:property TargetFramework=net10.0
#:property Nullable=enable
#:property InvariantGlobalization=true
#:property TieredPGO=true

// Training throughput of a text classifier on one thread, for the side-by-side with throughput.py (PyTorch):
// embedding 64 (vocabulary 20,000) → LSTM 128 → last-step pooling → 2 classes; batches of 32 texts of 200 tokens;
// Adam, class-weighted cross-entropy, one full step (forward, backward, update) per batch. Prints the best of ROUNDS
// rounds of STEPS steps after a warm-up.
// usage: dotnet run -c Release perf/classify/throughput.cs [STEPS] [ROUNDS]
using System.Diagnostics;
using LstmSimd;
using LstmSimd.Kernels;
using LstmSimd.Text;
using LstmSimd.Training;

const int Vocabulary = 20_000, Dimension = 64, Hidden = 128, Batch = 32, Tokens = 200, Classes = 2;
int steps = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 20;
int rounds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
var random = new SeededRandom(1);
var embedding = new Embedding(Vocabulary, Dimension, random, paddingId: 0);
var spec = new LstmSpec(Dimension, Hidden);
var head = new TrainableLinearHead(Hidden, Classes, random);
using var network = new ClassifierNetwork(embedding, LstmWeights.CreateRandom(spec, 1, forgetBias: 1), head, SequencePooling.LastStep, Batch, Tokens);
var trainer = new ClassifierTrainer(network, [1f, 1f], 1e-3, clipNorm: 1);
int[][] texts = [.. Enumerable.Range(0, Batch).Select(_ => Enumerable.Range(0, Tokens).Select(_ => 1 + random.NextInt32(Vocabulary - 1)).ToArray())];
int[] labels = [.. Enumerable.Range(0, Batch).Select(b => b % Classes)], batch = [.. Enumerable.Range(0, Batch)];

void Step() => trainer.Step(texts, batch, labels);

for (int i = 0; i < 5; i++) Step();
double best = double.PositiveInfinity;
for (int r = 0; r < rounds; r++)
{
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < steps; i++) Step();
    best = Math.Min(best, clock.Elapsed.TotalMilliseconds / steps);
}

Console.WriteLine($"LstmSimd: {best:F2} ms per training step (batch {Batch} × {Tokens} tokens), {Batch * 1000 / best:F0} texts/s, kernel {KernelSelector.Best}");
