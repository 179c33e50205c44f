namespace LstmSimd.Training;

/// <summary>Initialisation options for training, applied to <see cref="LstmWeights"/> in place.</summary>
public static class LstmInitialization
{
    /// <summary>
    /// Sets the forget-gate bias of every layer and direction so that b_ih + b_hh = <paramref name="value"/>
    /// for the f gate (b_ih = value, b_hh = 0), leaving the other gates alone. A forget bias of 1 keeps the
    /// cell's memory open early in training (Gers, Schmidhuber and Cummins, 2000; Jozefowicz et al., 2015).
    /// </summary>
    public static void SetForgetGateBias(LstmWeights weights, float value = 1f)
    {
        ArgumentNullException.ThrowIfNull(weights);
        LstmSpec spec = weights.Spec;
        if (!spec.Bias) throw new ArgumentException("The model has no biases.", nameof(weights));
        int h = spec.HiddenSize;
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                LstmLayerWeights w = weights[l, d];
                w.BiasIh.AsSpan(h, h).Fill(value);
                w.BiasHh.AsSpan(h, h).Clear();
            }
        }
    }

    /// <summary>PyTorch's initialisation (<see cref="LstmWeights.CreateRandom"/>) with the forget-gate bias set to <paramref name="forgetBias"/> when the model has biases.</summary>
    public static LstmWeights Create(LstmSpec spec, int seed, float forgetBias = 1f)
    {
        LstmWeights weights = LstmWeights.CreateRandom(spec, seed);
        if (spec.Bias) SetForgetGateBias(weights, forgetBias);
        return weights;
    }
}
