using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>
/// A trainable lookup table from token ids to vectors, as PyTorch's <c>nn.Embedding</c>: row <c>id</c> of
/// <see cref="Weight"/> ([count, dimension], row-major) is the vector of token <c>id</c>. The padding id, when there is
/// one, reads as the zero vector and never receives a gradient, so a padded batch trains as the unpadded sequences would.
/// Forward and backward allocate nothing.
/// </summary>
public sealed class Embedding
{
    /// <summary>A table initialised as <c>nn.Embedding</c>'s: every entry drawn from N(0, 1), the padding row zero.</summary>
    /// <param name="count">The number of token ids.</param>
    /// <param name="dimension">The length of each vector.</param>
    /// <param name="random">The source of the initial values.</param>
    /// <param name="paddingId">The id that reads as zeros and is never trained, or −1 for none.</param>
    public Embedding(int count, int dimension, SeededRandom random, int paddingId = -1)
        : this(count, dimension, NormalTable(count, dimension, random, paddingId), paddingId)
    {
    }

    /// <summary>Trains an existing table in place (used, not copied): <paramref name="weight"/> is [count, dimension].</summary>
    /// <exception cref="ArgumentException">The table's length is not count × dimension, or the padding row is not zero.</exception>
    public Embedding(int count, int dimension, float[] weight, int paddingId = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Length != (long)count * dimension)
            throw new ArgumentException($"The table holds {weight.Length} values; [count={count}, dimension={dimension}] needs {(long)count * dimension}.", nameof(weight));
        if (paddingId < -1 || paddingId >= count)
            throw new ArgumentOutOfRangeException(nameof(paddingId), paddingId, $"The padding id must be −1 (none) or in [0, count={count}).");
        if (paddingId >= 0 && weight.AsSpan(paddingId * dimension, dimension).ContainsAnyExcept(0f))
            throw new ArgumentException($"Row {paddingId}, the padding id's, must be zero.", nameof(weight));
        Count = count;
        Dimension = dimension;
        PaddingId = paddingId;
        Weight = weight;
        Gradient = new float[weight.Length];
    }

    /// <summary>The number of token ids.</summary>
    public int Count { get; }

    /// <summary>The length of each vector.</summary>
    public int Dimension { get; }

    /// <summary>The id that reads as zeros and is never trained, or −1.</summary>
    public int PaddingId { get; }

    /// <summary>The table: [count, dimension].</summary>
    public float[] Weight { get; }

    /// <summary>∂loss/∂table, accumulated by <see cref="Backward"/> into the rows of the ids it saw.</summary>
    public float[] Gradient { get; }

    /// <summary>Registers the table under <paramref name="name"/> (PyTorch's <c>embedding.weight</c> by default).</summary>
    public void AddTo(ParameterSet parameters, string name = "embedding.weight")
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Add(name, Weight, Gradient);
    }

    /// <summary>Writes the vector of each id of <paramref name="ids"/> into <paramref name="output"/> ([ids, dimension]).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, count).</exception>
    public void Forward(ReadOnlySpan<int> ids, Span<float> output)
    {
        CheckOutput(ids.Length, output.Length);
        int d = Dimension;
        for (int i = 0; i < ids.Length; i++)
            Weight.AsSpan(CheckedId(ids, i) * d, d).CopyTo(output.Slice(i * d, d));
    }

    /// <summary>
    /// Adds row i of <paramref name="outputGradient"/> ([ids, dimension]) to the gradient row of ids[i], for every i
    /// whose id is not the padding id. Rows of ids not seen are left as they are.
    /// </summary>
    public void Backward(ReadOnlySpan<int> ids, ReadOnlySpan<float> outputGradient)
    {
        CheckOutput(ids.Length, outputGradient.Length);
        int d = Dimension;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = CheckedId(ids, i);
            if (id == PaddingId) continue;
            Span<float> row = Gradient.AsSpan(id * d, d);
            ReadOnlySpan<float> g = outputGradient.Slice(i * d, d);
            for (int k = 0; k < d; k++) row[k] += g[k];
        }
    }

    private int CheckedId(ReadOnlySpan<int> ids, int i)
    {
        int id = ids[i];
        if ((uint)id >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(ids), id, $"ids[{i}] = {id} is outside [0, count={Count}).");
        return id;
    }

    private void CheckOutput(int ids, int length)
    {
        if (length != (long)ids * Dimension)
            throw new ArgumentException($"The vectors span holds {length} values; {ids} ids × dimension {Dimension} need {(long)ids * Dimension}.");
    }

    private static float[] NormalTable(int count, int dimension, SeededRandom random, int paddingId)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(random);
        float[] table = new float[Sizes.Elements("embedding count × dimension", count, dimension)];
        for (int i = 0; i < table.Length; i += 2)
        {
            // Box–Muller: two independent N(0, 1) draws from two uniform ones.
            double u = 1 - random.NextDouble(), v = random.NextDouble();
            double radius = Math.Sqrt(-2 * Math.Log(u));
            table[i] = (float)(radius * Math.Cos(2 * Math.PI * v));
            if (i + 1 < table.Length) table[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * v));
        }

        if (paddingId >= 0 && paddingId < count) table.AsSpan(paddingId * dimension, dimension).Clear();
        return table;
    }
}
