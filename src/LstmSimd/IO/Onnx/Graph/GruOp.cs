namespace LstmSimd.IO.Onnx.Graph;

/// <summary>
/// <c>GRU</c> on the library's fast path (see <see cref="RecurrentOp"/> for the shapes): the node's weights, imported by
/// <see cref="OnnxGruImport"/> and packed once when the file is loaded, run as a <see cref="GruModel"/> in the LSTM's gate slots.
/// </summary>
internal sealed class GruOp : RecurrentOp
{
    public override IReadOnlyList<string> Attributes =>
        ["hidden_size", "direction", "layout", "clip", "activations", "activation_alpha", "activation_beta", "linear_before_reset"];

    public override int MinInputs => 3;

    public override int MaxInputs => 6;

    public override int MinOutputs => 0;

    public override int MaxOutputs => 2;

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxOpNode node = c.Node;
        OnnxGruNode gru = node.Gru!;
        LstmModel gateSlots = c.Plan.FastModel(node);
        return PlanRun(c, gateSlots.Spec, gru.Layout, gru.Direction == ImportedDirection.Reverse, (batch, steps) =>
        {
            LstmSession session = c.Plan.Own(gateSlots.CreateSession(batch, steps));
            return () => session;
        });
    }
}
