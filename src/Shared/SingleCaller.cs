namespace LstmSimd.Shared;

/// <summary>
/// Lets an object that owns mutable scratch (a session, a trainer) serve one call at a time and refuse use after
/// disposal. Every public entry point <see cref="Enter"/>s with one interlocked compare-exchange and <see cref="Exit"/>s
/// in a finally: a second caller arriving meanwhile gets an <see cref="InvalidOperationException"/> naming the misuse,
/// instead of sharing buffers (and raw pointers into the first call's pinned spans) with it.
/// </summary>
internal sealed class SingleCaller(object owner, string noun)
{
    private const int Free = 0, Disposed = -1;

    // Free, Disposed, or the managed thread id of the caller inside (ids are positive).
    private int _state;

    /// <summary>Claims the owner for the calling thread.</summary>
    /// <exception cref="ObjectDisposedException">The owner was disposed.</exception>
    /// <exception cref="InvalidOperationException">A call is running (on another thread, or on this one further up the stack).</exception>
    public void Enter()
    {
        int previous = Interlocked.CompareExchange(ref _state, Environment.CurrentManagedThreadId, Free);
        if (previous != Free) ThrowUnavailable(previous);
    }

    /// <summary>Releases what <see cref="Enter"/> claimed.</summary>
    public void Exit() => Volatile.Write(ref _state, Free);

    /// <summary>Runs <paramref name="call"/> on <paramref name="state"/> as one call of the owner: <see cref="Enter"/>, then <see cref="Exit"/> however it ends.</summary>
    public void Run<TState>(TState state, Action<TState> call)
    {
        Enter();
        try
        {
            call(state);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>As <see cref="Run{TState}"/>, for a call that returns a value.</summary>
    public TResult Run<TState, TResult>(TState state, Func<TState, TResult> call)
    {
        Enter();
        try
        {
            return call(state);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Marks the owner disposed, first waiting for a running call to return (so that nothing it uses is torn down under
    /// it); true the first time, false when it was already disposed.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from inside a call of the owner on the same thread, which would wait for itself.</exception>
    public bool TryDispose()
    {
        var wait = default(SpinWait);
        while (true)
        {
            int previous = Interlocked.CompareExchange(ref _state, Disposed, Free);
            if (previous == Free) return true;
            if (previous == Disposed) return false;
            if (previous == Environment.CurrentManagedThreadId)
                throw new InvalidOperationException($"this {owner.GetType().Name} is being disposed from inside one of its own calls; dispose it after the call returns.");
            wait.SpinOnce(); // yields, then sleeps: a call lasts microseconds to seconds
        }
    }

    private void ThrowUnavailable(int state)
    {
        string name = owner.GetType().Name;
        if (state == Disposed) throw new ObjectDisposedException(name);
        if (state == Environment.CurrentManagedThreadId)
            throw new InvalidOperationException($"this {name} is already running a call on this thread (a call made from inside another of its calls); a {noun} serves one call at a time.");
        throw new InvalidOperationException($"this {name} is already running a call on another thread; a {noun} serves one caller at a time — create one {noun} per thread.");
    }
}
