namespace LstmSimd.Shared;

/// <summary>
/// The slots of a set of keyed streams (a stream pool's states, a forecaster's windows): each key's slot, the free slots,
/// and the slots of one step's rows, where a key named twice is refused. Not thread-safe: its owner locks around it.
/// </summary>
internal sealed class StreamSlots<TKey> where TKey : notnull
{
    private readonly Dictionary<TKey, int> _slots;
    private readonly int[] _free;       // a stack of unused slots
    private int _freeCount;
    private readonly int[] _stepSlots;  // the slot of each row of the current step
    private readonly int[] _stepMark;   // per slot, the number of the last step that named it (finds repeated keys)
    private int _stepNumber;
    private readonly string _owner;

    /// <summary><paramref name="capacity"/> slots, keys compared by <paramref name="comparer"/>; <paramref name="owner"/> names what holds the streams in messages ("the pool").</summary>
    public StreamSlots(int capacity, IEqualityComparer<TKey>? comparer, string owner)
    {
        Capacity = capacity;
        _owner = owner;
        _slots = new Dictionary<TKey, int>(capacity, comparer);
        _free = new int[capacity];
        _stepSlots = new int[capacity];
        _stepMark = new int[capacity];
        Clear();
    }

    public int Capacity { get; }

    public int Count => _slots.Count;

    /// <summary>Every key held, with its slot.</summary>
    public IReadOnlyDictionary<TKey, int> Held => _slots;

    public bool Contains(TKey key) => _slots.ContainsKey(key);

    /// <summary>Gives <paramref name="key"/> a free slot and returns it (slot 0 first after <see cref="Clear"/>).</summary>
    /// <exception cref="ArgumentException">The key is held already.</exception>
    /// <exception cref="InvalidOperationException">Every slot is in use.</exception>
    public int Add(TKey key)
    {
        if (_slots.ContainsKey(key)) throw new ArgumentException($"A stream with key '{key}' is already in {_owner}.", nameof(key));
        if (_freeCount == 0) throw new InvalidOperationException($"The capacity of {_owner} is full: it holds {Capacity} streams; remove one first.");
        int slot = _free[--_freeCount];
        _slots.Add(key, slot);
        return slot;
    }

    /// <summary>Frees <paramref name="key"/>'s slot; false when no stream has this key.</summary>
    public bool Remove(TKey key)
    {
        if (!_slots.Remove(key, out int slot)) return false;
        _free[_freeCount++] = slot;
        return true;
    }

    /// <exception cref="KeyNotFoundException">No stream has this key.</exception>
    public int SlotOf(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _slots.TryGetValue(key, out int slot) ? slot : throw new KeyNotFoundException($"No stream has key '{key}'.");
    }

    /// <summary>Frees every slot.</summary>
    public void Clear()
    {
        _slots.Clear();
        for (int i = 0; i < Capacity; i++) _free[i] = Capacity - 1 - i; // slot 0 is handed out first
        _freeCount = Capacity;
    }

    /// <summary>Looks up one step's keys, row by row (then <see cref="RowSlot"/>); nothing changes when a key is unknown or repeated.</summary>
    /// <exception cref="ArgumentException">More keys than slots, or a key named twice.</exception>
    /// <exception cref="KeyNotFoundException">No stream has one of the keys.</exception>
    public void BeginStep(ReadOnlySpan<TKey> keys)
    {
        if (keys.Length > Capacity)
            throw new ArgumentException($"{keys.Length} keys name more streams than the capacity of {Capacity} of {_owner}: some key is repeated or unknown.", nameof(keys));
        if (++_stepNumber == int.MaxValue)
        {
            Array.Clear(_stepMark);
            _stepNumber = 1;
        }

        for (int row = 0; row < keys.Length; row++)
        {
            int slot = SlotOf(keys[row]);
            if (_stepMark[slot] == _stepNumber)
                throw new ArgumentException($"Key '{keys[row]}' is named twice in one step (at rows {Array.IndexOf(_stepSlots, slot, 0, row)} and {row}); a stream advances once per step.", nameof(keys));
            _stepMark[slot] = _stepNumber;
            _stepSlots[row] = slot;
        }
    }

    /// <summary>The slot of row <paramref name="row"/> of the last <see cref="BeginStep"/>.</summary>
    public int RowSlot(int row) => _stepSlots[row];
}
