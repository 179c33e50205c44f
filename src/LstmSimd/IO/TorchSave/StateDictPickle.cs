using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace LstmSimd.IO.TorchSave;

/// <summary>A tensor as <c>torch._utils._rebuild_tensor_v2</c> describes it: a view of a storage.</summary>
/// <param name="Storage">The storage the tensor views.</param>
/// <param name="Offset">Its first element's index in the storage.</param>
/// <param name="Shape">Its sizes.</param>
/// <param name="Strides">Elements between neighbours along each dimension.</param>
internal sealed record PickledTensor(PickledStorage Storage, long Offset, long[] Shape, long[] Strides);

/// <summary>A storage of a <c>torch.save</c> zip: its entry key under <c>data/</c>, element type and element count.</summary>
internal sealed record PickledStorage(string Key, SafetensorsDtype Dtype, long Elements);

/// <summary>
/// The unpickler of a state_dict's <c>data.pkl</c>, as <c>torch.load(weights_only=True)</c> reads it: only what a state_dict
/// holds is built (dicts and OrderedDicts, lists, tuples, strings, numbers, booleans, None, and tensors rebuilt from
/// storages), and any other global is refused by name. A whole pickled module (<c>torch.save(model)</c>) names its
/// classes, so it is refused with the advice to save the state_dict. Bounded: every object built is charged against a
/// budget proportional to the pickle's length, nesting and the memo are capped, so a hostile pickle gets a
/// <see cref="ModelFormatException"/>, never an unbounded allocation or a deep recursion.
/// </summary>
internal sealed class StateDictPickle
{
    /// <summary>Estimated memory the objects of one pickle may take, per byte of it, and in any case.</summary>
    private const long MemoryPerByte = 32, FixedMemory = 4L << 20;

    /// <summary>Open MARKs, and levels of containers inside containers.</summary>
    private const int MaxDepth = 64;

    /// <summary>Dimensions of a tensor.</summary>
    private const int MaxRank = 64;

    private const int ObjectBytes = 48, EntryBytes = 16;

    private static readonly object None = new();

    private readonly byte[] _data;
    private readonly string _source;
    private readonly List<object> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object> _memo = [];
    private readonly long _limit;
    private long _charged;
    private int _position;

    private StateDictPickle(byte[] data, string source)
    {
        _data = data;
        _source = source;
        _limit = data.Length * MemoryPerByte + FixedMemory;
    }

    /// <summary>The pickle's top-level object: a dictionary from names to tensors (and whatever else a checkpoint keeps beside them).</summary>
    /// <exception cref="ModelFormatException">The pickle is malformed, names a global a state_dict does not hold, or passes a bound.</exception>
    public static Dictionary<object, object> Load(byte[] pickle, string source)
    {
        object top = new StateDictPickle(pickle, source).Run();
        return top as Dictionary<object, object>
            ?? throw new ModelFormatException($"{source}: the pickle holds a {Describe(top)}, not a state_dict (a dictionary of tensors); save model.state_dict().");
    }

    private object Run()
    {
        while (true)
        {
            byte op = Byte();
            switch (op)
            {
                case 0x80: Byte(); break; // PROTO
                case 0x95: Bytes(8); break; // FRAME: frames only group opcodes
                case (byte)'(': if (_marks.Count >= MaxDepth) Fail("nests too deeply"); _marks.Add(_stack.Count); break; // MARK
                case (byte)'.': return _stack.Count == 1 ? _stack[0] : Fail("ends with a malformed stack"); // STOP
                case (byte)'N': Push(None); break;
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break; // BININT
                case (byte)'K': Push((long)Byte()); break; // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break; // BININT2
                case 0x8a: Push(Long(Byte())); break; // LONG1
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break; // BINFLOAT
                case (byte)'X': Push(Text(Length32())); break; // BINUNICODE
                case 0x8c: Push(Text(Byte())); break; // SHORT_BINUNICODE
                case (byte)'B': Push(Charge(Bytes(Length32()).ToArray())); break; // BINBYTES
                case (byte)'C': Push(Charge(Bytes(Byte()).ToArray())); break; // SHORT_BINBYTES
                case (byte)'}': Push(NewDictionary()); break; // EMPTY_DICT
                case (byte)']': Push(Charge(new List<object>())); break; // EMPTY_LIST
                case (byte)')': Push(Array.Empty<object>()); break; // EMPTY_TUPLE
                case (byte)'t': Push(Charge(PopMark().ToArray())); break; // TUPLE
                case 0x85: Push(Charge(new[] { Pop() })); break; // TUPLE1
                case 0x86: { object b = Pop(), a = Pop(); Push(Charge(new[] { a, b })); break; } // TUPLE2
                case 0x87: { object c = Pop(), b = Pop(), a = Pop(); Push(Charge(new[] { a, b, c })); break; } // TUPLE3
                case (byte)'l': Push(Charge(PopMark())); break; // LIST
                case (byte)'a': { object item = Pop(); List(Top()).Add(Charge(item)); break; } // APPEND
                case (byte)'e': { List<object> items = PopMark(); List(Top()).AddRange(items); break; } // APPENDS
                case (byte)'s': { object value = Pop(), key = Pop(); Set(Top(), key, value); break; } // SETITEM
                case (byte)'u': SetItems(); break; // SETITEMS
                case (byte)'q': Memo(Byte()); break; // BINPUT
                case (byte)'r': Memo(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))); break; // LONG_BINPUT
                case 0x94: Memo(_memo.Count); break; // MEMOIZE
                case (byte)'h': Push(Recall(Byte())); break; // BINGET
                case (byte)'j': Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))); break; // LONG_BINGET
                case (byte)'c': Push(Global(Line(), Line())); break; // GLOBAL
                case 0x93: { object name = Pop(), module = Pop(); Push(Global(Str(module), Str(name))); break; } // STACK_GLOBAL
                case (byte)'Q': Push(Storage(Pop())); break; // BINPERSID
                case (byte)'R': { object arguments = Pop(), callable = Pop(); Push(Call(callable, arguments)); break; } // REDUCE
                case 0x81: { object arguments = Pop(), callable = Pop(); Push(Call(callable, arguments)); break; } // NEWOBJ
                case (byte)'b': Build(); break; // BUILD
                default:
                    Fail(string.Create(CultureInfo.InvariantCulture, $"uses pickle opcode 0x{op:x2} at byte {_position - 1}, which a state_dict does not need"));
                    break;
            }
        }
    }

    /// <summary>What a GLOBAL names: a class or function this reader builds, or a refusal naming it.</summary>
    private object Global(string module, string name)
    {
        switch (module, name)
        {
            case ("collections", "OrderedDict"):
            case ("torch._utils", "_rebuild_tensor_v2"):
            case ("torch._utils", "_rebuild_parameter"):
            case ("torch", "Size"):
                return Charge(new GlobalName(module, name));
            case ("torch", _) when name.EndsWith("Storage", StringComparison.Ordinal) && StorageDtype(name) is not null:
                return Charge(new GlobalName(module, name));
        }

        string named = UserText.Quote(module + "." + name);
        if (module.StartsWith("torch.nn", StringComparison.Ordinal) || module == "__main__")
            throw new ModelFormatException($"{_source} pickles a whole module ({named}), which only Python can rebuild; save its state_dict instead: torch.save(model.state_dict(), path).");
        throw new ModelFormatException($"{_source}: the pickle names {named}, which a state_dict does not hold; only tensors, dictionaries, lists and plain values are read.");
    }

    private object Call(object callable, object arguments)
    {
        if (callable is not GlobalName global) return Fail("calls something that is not a known class or function");
        object[] args = arguments as object[] ?? (object[])Fail("calls a function without a tuple of arguments");
        switch (global.Name)
        {
            case "OrderedDict":
                if (args.Length != 0) Fail("builds an OrderedDict from arguments");
                return NewDictionary();
            case "Size":
                return args.Length == 1 && args[0] is object[] dims ? dims : Fail("builds a torch.Size from something that is not a tuple");
            case "_rebuild_parameter":
                return args.Length >= 1 && args[0] is PickledTensor parameter ? parameter : Fail("rebuilds a parameter from something that is not a tensor");
            case "_rebuild_tensor_v2":
                return RebuildTensor(args);
            default:
                return Fail($"calls {UserText.Quote(global.Module + "." + global.Name)}, which is not called in a state_dict");
        }
    }

    /// <summary>(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) to a tensor view, checked against its storage.</summary>
    private PickledTensor RebuildTensor(object[] args)
    {
        if (args.Length < 4 || args[0] is not PickledStorage storage || args[1] is not long offset || args[2] is not object[] sizes || args[3] is not object[] strides)
            return (PickledTensor)Fail("rebuilds a tensor from arguments that are not (storage, offset, size, stride, …)");
        if (sizes.Length > MaxRank || strides.Length != sizes.Length)
            Fail(string.Create(CultureInfo.InvariantCulture, $"rebuilds a tensor of {sizes.Length} sizes and {strides.Length} strides"));
        long[] shape = new long[sizes.Length], step = new long[sizes.Length];
        long elements = 1, last = offset;
        for (int i = 0; i < sizes.Length; i++)
        {
            if (sizes[i] is not long size || size < 0 || strides[i] is not long stride || stride < 0)
                Fail("rebuilds a tensor with a size or stride that is not a non-negative integer");
            shape[i] = (long)sizes[i];
            step[i] = (long)strides[i];
            elements = SafeMultiply(elements, shape[i]);
            if (shape[i] > 0) last = SafeAdd(last, SafeMultiply(shape[i] - 1, step[i]));
        }

        if (offset < 0 || (elements > 0 && last >= storage.Elements))
        {
            Fail(string.Create(CultureInfo.InvariantCulture,
                $"has a tensor of shape [{string.Join(", ", shape)}] at offset {offset} that reaches element {last} of storage {UserText.Quote(storage.Key)}, which holds {storage.Elements}"));
        }

        return Charge(new PickledTensor(storage, offset, shape, step));
    }

    /// <summary>BINPERSID: ('storage', storage class, key, location, element count) names a storage of the zip.</summary>
    private PickledStorage Storage(object id)
    {
        if (id is not object[] { Length: 5 } fields || fields[0] is not string kind || kind != "storage" || fields[1] is not GlobalName type
            || fields[2] is not string key || fields[4] is not long elements || elements < 0)
        {
            return (PickledStorage)Fail("has a persistent id that is not ('storage', type, key, location, size)");
        }

        SafetensorsDtype dtype = StorageDtype(type.Name) ?? (SafetensorsDtype)Fail($"has a storage of type {UserText.Quote(type.Name)}");
        if (key.Length == 0 || key.Length > 64 || !key.All(char.IsAsciiLetterOrDigit))
            Fail($"names a storage key {UserText.Quote(key)} that is not a plain name");
        return Charge(new PickledStorage(key, dtype, elements));
    }

    private static SafetensorsDtype? StorageDtype(string storageClass) => storageClass switch
    {
        "FloatStorage" => SafetensorsDtype.F32,
        "DoubleStorage" => SafetensorsDtype.F64,
        "HalfStorage" => SafetensorsDtype.F16,
        "BFloat16Storage" => SafetensorsDtype.BF16,
        "LongStorage" => SafetensorsDtype.I64,
        "IntStorage" => SafetensorsDtype.I32,
        "ShortStorage" => SafetensorsDtype.I16,
        "CharStorage" => SafetensorsDtype.I8,
        "ByteStorage" => SafetensorsDtype.U8,
        "BoolStorage" => SafetensorsDtype.BOOL,
        _ => null,
    };

    private void SetItems()
    {
        List<object> items = PopMark();
        if (items.Count % 2 != 0) Fail("sets dictionary items from an odd number of values");
        object target = Top();
        for (int i = 0; i < items.Count; i += 2) Set(target, items[i], items[i + 1]);
    }

    private void Set(object target, object key, object value)
    {
        if (target is not Dictionary<object, object> dictionary) { Fail("sets an item of something that is not a dictionary"); return; }
        if (key is not (string or long or bool)) Fail("uses a dictionary key that is not a string or an integer");
        Charge(EntryBytes);
        dictionary[key] = value;
    }

    /// <summary>BUILD on a dictionary (an OrderedDict's <c>_metadata</c> attribute) or a tensor (its Python attributes): the state is not needed.</summary>
    private void Build()
    {
        Pop();
        if (Top() is not (Dictionary<object, object> or PickledTensor)) Fail("sets the state of an object a state_dict does not hold");
    }

    private Dictionary<object, object> NewDictionary() => Charge(new Dictionary<object, object>());

    private void Memo(long index)
    {
        if (_memo.Count >= 1 << 24 && !_memo.ContainsKey(index)) Fail("memoises too many objects");
        Charge(EntryBytes);
        _memo[index] = Top();
    }

    private object Recall(long index) => _memo.TryGetValue(index, out object? value) ? value : Fail(string.Create(CultureInfo.InvariantCulture, $"recalls memo entry {index}, which was never stored"));

    private void Push(object value)
    {
        if (_stack.Count >= 1 << 20) Fail("pushes too many values");
        _stack.Add(value);
    }

    private object Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _stack.Count == _marks[^1])) Fail("pops from an empty stack");
        object value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object Top() => _stack.Count > 0 ? _stack[^1] : Fail("reads an empty stack");

    private List<object> PopMark()
    {
        if (_marks.Count == 0) Fail("closes a MARK that was never opened");
        int start = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        List<object> items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private List<object> List(object value) => value as List<object> ?? (List<object>)Fail("appends to something that is not a list");

    private T Charge<T>(T value)
    {
        Charge(ObjectBytes + value switch
        {
            string s => 2L * s.Length,
            byte[] b => b.Length,
            object[] a => EntryBytes * a.Length,
            List<object> l => EntryBytes * l.Count,
            _ => 0,
        });
        return value;
    }

    private void Charge(long bytes)
    {
        _charged += bytes;
        if (_charged > _limit)
            Fail(string.Create(CultureInfo.InvariantCulture, $"builds more than a pickle of {_data.Length} bytes may ({_limit} bytes of objects)"));
    }

    private byte Byte() => _position < _data.Length ? _data[_position++] : (byte)Fail("ends in the middle of an opcode");

    private ReadOnlySpan<byte> Bytes(long count)
    {
        if (count < 0 || count > _data.Length - _position) Fail("ends in the middle of an opcode");
        ReadOnlySpan<byte> bytes = _data.AsSpan(_position, (int)count);
        _position += (int)count;
        return bytes;
    }

    private long Length32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

    private string Text(long length)
    {
        ReadOnlySpan<byte> bytes = Bytes(length);
        try
        {
            return Charge(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes));
        }
        catch (DecoderFallbackException)
        {
            return (string)Fail("holds a string that is not UTF-8");
        }
    }

    private string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _position);
        if (end < 0 || end - _position > 256) Fail("names a global without a line end");
        string line = Encoding.ASCII.GetString(_data, _position, end - _position);
        _position = end + 1;
        return line;
    }

    private object Long(int length)
    {
        if (length > 8) Fail("holds an integer wider than 64 bits");
        ReadOnlySpan<byte> bytes = Bytes(length);
        long value = 0;
        for (int i = length - 1; i >= 0; i--) value = (value << 8) | bytes[i];
        if (length is > 0 and < 8 && (bytes[length - 1] & 0x80) != 0) value -= 1L << (8 * length); // two's complement of that width
        return value;
    }

    private string Str(object value) => value as string ?? (string)Fail("names a global with something that is not a string");

    private static long SafeMultiply(long a, long b) => b != 0 && a > long.MaxValue / b ? long.MaxValue : a * b;

    private static long SafeAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private static string Describe(object value) => value switch
    {
        _ when ReferenceEquals(value, None) => "None",
        PickledTensor => "tensor",
        object[] => "tuple",
        List<object> => "list",
        string => "string",
        GlobalName g => UserText.Quote(g.Module + "." + g.Name),
        _ => value.GetType().Name,
    };

    private object Fail(string what) => throw new ModelFormatException($"{_source}: the pickle {what}.");

    private sealed record GlobalName(string Module, string Name);
}
