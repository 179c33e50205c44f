namespace LstmSimd.Kernels;

/// <summary>
/// Where the members of a team that share one sequence's hidden-unit blocks meet after every step: step t + 1 reads all
/// of h_t, which every member wrote a part of. Members spin, as a step is microseconds away, and yield the core to other
/// threads while they wait (never sleep), so a member that was descheduled is not starved by its partner. Reusable: each
/// round counts down to zero, and the last member to arrive opens the next round.
/// </summary>
internal sealed class StepBarrier(int members)
{
    private readonly int _members = members;
    private int _remaining = members;
    private int _round;

    /// <summary>Returns when all members have called it in this round.</summary>
    public void SignalAndWait()
    {
        int round = Volatile.Read(ref _round);
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            // Re-armed before the round opens: no member can arrive for the next round until it sees the new one.
            Volatile.Write(ref _remaining, _members);
            Volatile.Write(ref _round, round + 1);
            return;
        }

        var wait = default(SpinWait);
        while (Volatile.Read(ref _round) == round) wait.SpinOnce(sleep1Threshold: -1);
    }
}
