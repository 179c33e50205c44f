using System.Diagnostics;
using System.Globalization;
using LstmSimd;
using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Reference;

// Exit 0: the process runs the widest kernels the CPU has (or the ones LSTMSIMD_KERNEL forces) and every model
// matches the float64 reference within the numerics contract. Exit 1 otherwise. Also prints the cold-start times
// of this fresh process: open and import a model file, build the model, warm it up, its first Step after that, its tenth.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int failures = 0;

KernelPath running = KernelSelector.Resolve(KernelPath.Auto);
bool forced = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(KernelSelector.EnvironmentVariable));
Console.WriteLine($"kernel path {running} (CPU offers {KernelSelector.CpuWidest}){(forced ? ", forced" : "")}");
if (!forced && KernelSelector.NarrowerThanCpuReason is { } narrower)
{
    Console.WriteLine($"FAIL: {narrower}");
    failures++;
}

// The first model of the process comes from a file, as in a service: open and import, build, warm up.
string modelPath = Path.Combine(Path.GetTempPath(), $"lstmsimd-aot-{Environment.ProcessId}.lstm");
LstmModelFile.Save(modelPath, LstmWeights.CreateRandom(new LstmSpec(inputSize: 64, hiddenSize: 64), seed: 1));
var clock = Stopwatch.StartNew();
ImportedLstm imported = LstmModelFile.Load(modelPath);
double importUs = clock.Elapsed.TotalMicroseconds;
File.Delete(modelPath);
clock.Restart();
LstmModel coldModel = LstmModel.Create(imported.Weights);
double createUs = clock.Elapsed.TotalMicroseconds;
clock.Restart();
coldModel.Warmup();
double warmupUs = clock.Elapsed.TotalMicroseconds;
using (LstmSession session = coldModel.CreateSession(maxBatch: 1, maxSteps: 1))
{
    float[] x = new float[64], h = new float[64];
    double[] stepUs = new double[10];
    for (int i = 0; i < stepUs.Length; i++)
    {
        x[i] = 0.5f;
        long start = Stopwatch.GetTimestamp();
        session.Step(x, batch: 1, h);
        stepUs[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    Console.WriteLine($"cold start H=64: open + import {importUs:F0} µs, Create {createUs:F0} µs, Warmup {warmupUs:F0} µs, first Step {stepUs[0]:F1} µs, tenth Step {stepUs[9]:F1} µs");
}

(string Name, LstmSpec Spec, WeightFormat Format)[] cases =
[
    ("fp32 2 layers", new LstmSpec(inputSize: 7, hiddenSize: 37, numLayers: 2), WeightFormat.Float32),
    ("fp32 bidirectional, projected", new LstmSpec(inputSize: 5, hiddenSize: 24, bidirectional: true, projectionSize: 9), WeightFormat.Float32),
    ("bf16 weights", new LstmSpec(inputSize: 16, hiddenSize: 48), WeightFormat.BFloat16),
];
foreach ((string name, LstmSpec spec, WeightFormat format) in cases)
{
    const int Steps = 6, Batch = 3;
    LstmWeights weights = LstmWeights.CreateRandom(spec, seed: 7);
    LstmModel model = LstmModel.Create(weights, new LstmModelOptions { Weights = format });
    var random = new Random(3);
    float[] input = new float[Steps * Batch * spec.InputSize];
    for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
    float[] output = new float[Steps * Batch * spec.OutputSize];
    using (LstmSession session = model.CreateSession(Batch, Steps)) session.Forward(input, Steps, Batch, output);

    ReferenceResult expected = ReferenceLstm.Forward(weights.StoredAs(format), input, Steps, Batch);
    double worst = 0;
    int bad = 0;
    for (int i = 0; i < output.Length; i++)
    {
        double error = Math.Abs(output[i] - expected.Output[i]);
        worst = Math.Max(worst, error);
        if (!(error <= 1e-5 + 1e-4 * Math.Abs(expected.Output[i]))) bad++;
    }

    Console.WriteLine($"{(bad == 0 ? "ok  " : "FAIL")} {name}: max |Δ| {worst:E1} against the reference on {model.KernelPath}");
    if (bad > 0 || model.KernelPath != running) failures++;
}

Console.WriteLine(failures == 0 ? "all checks passed" : $"{failures} check(s) failed");
return failures == 0 ? 0 : 1;
