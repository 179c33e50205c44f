using System.Runtime.CompilerServices;

namespace LstmSimd.Kernels;

/// <summary>
/// Which gate rows a packed panel holds, and in which of the four pre-activation slots of a block each one's products
/// land. The LSTM's panels hold all four gates; a GRU's hold only the rows that are not zero, so that its products cost
/// three gates' multiply-adds (two for the original cell's first product), not the four of the shared slot layout.
/// </summary>
internal enum GateLayout
{
    /// <summary>i, f, g, o into slots 0–3.</summary>
    Lstm,

    /// <summary>W_ih of a GRU: r, z and n's input part into slots 0–2; slot 3 (b_hn) is carried over from the start value.</summary>
    GruInput,

    /// <summary>W_hh of a GRU (reset gate after the product): r, z and n's recurrent part into slots 0, 1 and 3; slot 2 carried.</summary>
    GruRecurrent,

    /// <summary>W_hh of the original GRU's first product: r and z into slots 0 and 1; slots 2 and 3 carried (W_hn has its own panel).</summary>
    GruGates,

    /// <summary>One gate (W_hr, the original GRU's W_hn): no pre-activation slots, see <see cref="CellKernels{TVec, TFormat}.Project"/>.</summary>
    Single,
}

/// <summary>A <see cref="GateLayout"/> as a type, so that the kernels compile the gate count and slots in as constants.</summary>
internal interface IGateLayout
{
    /// <summary>Gate rows per hidden unit in the panel.</summary>
    static abstract int Count { get; }

    /// <summary>The pre-activation slot (0–3) of the panel's gate <paramref name="gate"/>; also its gate-major row block in the four-slot source weights.</summary>
    static abstract int Slot(int gate);

    /// <summary>Whether some gate of the panel lands in <paramref name="slot"/> (the others keep their start value).</summary>
    static abstract bool Holds(int slot);
}

internal readonly struct LstmGates : IGateLayout
{
    public static int Count => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(int gate) => gate;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Holds(int slot) => true;
}

internal readonly struct GruInputGates : IGateLayout
{
    public static int Count => 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(int gate) => gate;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Holds(int slot) => slot != 3;
}

internal readonly struct GruRecurrentGates : IGateLayout
{
    public static int Count => 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(int gate) => gate == 2 ? 3 : gate;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Holds(int slot) => slot != 2;
}

internal readonly struct GruGateRows : IGateLayout
{
    public static int Count => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(int gate) => gate;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Holds(int slot) => slot < 2;
}

internal static class GateLayouts
{
    /// <summary>Pre-activation slots per hidden unit: the LSTM's four gates, or a GRU's r, z and n's two parts.</summary>
    public const int Slots = 4;

    /// <summary>Gate rows per hidden unit of a panel in <paramref name="layout"/>.</summary>
    public static int Count(GateLayout layout) => layout switch
    {
        GateLayout.Lstm => LstmGates.Count,
        GateLayout.GruInput => GruInputGates.Count,
        GateLayout.GruRecurrent => GruRecurrentGates.Count,
        GateLayout.GruGates => GruGateRows.Count,
        GateLayout.Single => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown gate layout."),
    };

    /// <summary>The gate-major row block of the source weights that the panel's gate <paramref name="gate"/> holds.</summary>
    public static int SourceGate(GateLayout layout, int gate) => layout switch
    {
        GateLayout.GruRecurrent => GruRecurrentGates.Slot(gate),
        _ => gate,
    };
}
