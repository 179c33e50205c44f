using LstmSimd.Training;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Training;

public sealed class TrainableLinearHeadTests
{
    private static TrainableLinearHead Head()
    {
        var head = new TrainableLinearHead(3, 2, new SeededRandom(1));
        float[] w = [1f, 2f, 3f, -1f, 0f, 0.5f];
        w.CopyTo(head.Weight, 0);
        head.Bias[0] = 0.25f;
        head.Bias[1] = -1f;
        return head;
    }

    [Fact]
    public void The_head_computes_w_times_x_plus_b_for_every_row()
    {
        float[] y = new float[4];
        Head().Forward([1f, 1f, 1f, 2f, 0f, -2f], 2, y);
        Assert.Equal([6.25f, -1.5f, -3.75f, -4f], y);
    }

    [Fact]
    public void The_head_backward_accumulates_outer_products_and_returns_w_transposed_times_dy()
    {
        TrainableLinearHead head = Head();
        float[] x = [1f, 1f, 1f, 2f, 0f, -2f], dy = [1f, 0f, 0.5f, 2f], dx = new float[6];
        head.Backward(x, dy, 2, dx);
        head.Backward(x, dy, 2, default);
        // dW = Σ_r dy_r ⊗ x_r, twice.
        Assert.Equal([2 * (1f + 1f), 2 * (1f + 0f), 2 * (1f - 1f), 2 * (0f + 4f), 2 * (0f + 0f), 2 * (0f - 4f)], head.WeightGradient);
        Assert.Equal([2 * 1.5f, 2 * 2f], head.BiasGradient);
        Assert.Equal([1f, 2f, 3f, 0.5f - 2f, 1f, 1.5f + 1f], dx);
    }

    [Fact]
    public void The_head_initialises_within_one_over_root_fan_in_and_allocates_nothing_per_call()
    {
        var head = new TrainableLinearHead(16, 5, new SeededRandom(7));
        Assert.All(head.Weight, w => Assert.InRange(w, -0.25f, 0.25f));
        Assert.All(head.Bias, b => Assert.InRange(b, -0.25f, 0.25f));
        float[] x = new float[3 * 16], y = new float[3 * 5], dx = new float[3 * 16];
        head.Forward(x, 3, y);
        head.Backward(x, y, 3, dx);
        Assert.Equal(0, Allocations.LeastOver(() =>
        {
            head.Forward(x, 3, y);
            head.Backward(x, y, 3, dx);
        }, 1));
    }

    [Fact]
    public void A_head_without_bias_trains_the_arrays_it_was_given()
    {
        float[] weight = [1f, -1f];
        var head = new TrainableLinearHead(2, 1, weight, []);
        float[] y = new float[1];
        head.Forward([3f, 1f], 1, y);
        Assert.Equal(2f, y[0]);
        head.Backward([3f, 1f], [1f], 1, default);
        var set = new ParameterSet();
        head.AddTo(set);
        new SgdOptimizer(set, 0.5).Step();
        Assert.Equal([-0.5f, -1.5f], weight);
        Assert.Single(set.Parameters);
    }
}
