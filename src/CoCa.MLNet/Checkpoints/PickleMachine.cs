using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace CoCa.MLNet.Checkpoints;

/// <summary>
/// A pickle virtual machine for the subset of protocols 0–5 that <c>torch.save</c> state dicts use. It builds plain
/// data (dicts, lists, tuples, numbers, strings) and calls only the globals that <paramref name="findGlobal"/> resolves
/// to an <see cref="IPyCallable"/>; every other global becomes an inert <see cref="PyOpaque"/>. Nothing is executed.
/// </summary>
internal sealed class PickleMachine(
    byte[] data,
    string source,
    Func<string, string, object> findGlobal,
    Func<object?, object?> persistentLoad)
{
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    /// <summary>Runs the pickle to its STOP opcode and returns the top-level object.</summary>
    public object? Load()
    {
        while (true)
        {
            int at = _pos;
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO n: the version only matters to writers
                case 0x95: ReadUInt64(); break; // FRAME length: frames are inline in the byte stream
                case (byte)'.': return Pop(at); // STOP

                case (byte)'(': _marks.Add(_stack.Count); break; // MARK
                case (byte)'0': Pop(at); break; // POP
                case (byte)'1': PopMark(at); break; // POP_MARK
                case (byte)'2': Push(Peek(at)); break; // DUP

                case (byte)'N': Push(null); break; // NONE
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case (byte)'J': Push((long)ReadInt32()); break; // BININT
                case (byte)'K': Push((long)ReadByte()); break; // BININT1
                case (byte)'M': Push((long)ReadUInt16()); break; // BININT2
                case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
                case 0x8b: Push(ReadLong(ReadCount(ReadInt32(), at))); break; // LONG4
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadSpan(8))); break; // BINFLOAT
                case (byte)'I': Push(ParseTextInt(ReadLine(), at)); break; // INT (protocol 0)
                case (byte)'L': Push(ParseTextLong(ReadLine(), at)); break; // LONG (protocol 0)
                case (byte)'F': Push(ParseTextFloat(ReadLine(), at)); break; // FLOAT (protocol 0)

                case (byte)'X': Push(ReadUtf8(ReadCount(ReadUInt32(), at))); break; // BINUNICODE
                case 0x8c: Push(ReadUtf8(ReadByte())); break; // SHORT_BINUNICODE
                case 0x8d: Push(ReadUtf8(ReadCount(ReadUInt64(), at))); break; // BINUNICODE8
                case (byte)'T': Push(ReadLatin1(ReadCount(ReadInt32(), at))); break; // BINSTRING (py2 str)
                case (byte)'U': Push(ReadLatin1(ReadByte())); break; // SHORT_BINSTRING
                case (byte)'B': Push(ReadSpan(ReadCount(ReadUInt32(), at)).ToArray()); break; // BINBYTES
                case (byte)'C': Push(ReadSpan(ReadByte()).ToArray()); break; // SHORT_BINBYTES
                case 0x8e: Push(ReadSpan(ReadCount(ReadUInt64(), at)).ToArray()); break; // BINBYTES8
                case 0x96: Push(ReadSpan(ReadCount(ReadUInt64(), at)).ToArray()); break; // BYTEARRAY8

                case (byte)')': Push(PyTuple.Empty); break; // EMPTY_TUPLE
                case 0x85: Push(new PyTuple([Pop(at)])); break; // TUPLE1
                case 0x86: { var b = Pop(at); var a = Pop(at); Push(new PyTuple([a, b])); break; } // TUPLE2
                case 0x87: { var c = Pop(at); var b = Pop(at); var a = Pop(at); Push(new PyTuple([a, b, c])); break; } // TUPLE3
                case (byte)'t': Push(new PyTuple(PopMark(at).ToArray())); break; // TUPLE
                case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
                case (byte)'l': Push(PopMark(at)); break; // LIST
                case (byte)'}': Push(new PyDict()); break; // EMPTY_DICT
                case (byte)'d': Push(DictFrom(PopMark(at), at)); break; // DICT
                case 0x8f: Push(new List<object?>()); break; // EMPTY_SET (sets are kept as lists)
                case 0x91: Push(PopMark(at)); break; // FROZENSET

                case (byte)'a': { var v = Pop(at); AsList(Peek(at), at).Add(v); break; } // APPEND
                case (byte)'e': { var items = PopMark(at); AsList(Peek(at), at).AddRange(items); break; } // APPENDS
                case 0x90: { var items = PopMark(at); AsList(Peek(at), at).AddRange(items); break; } // ADDITEMS
                case (byte)'s': { var v = Pop(at); var k = Pop(at); SetItem(Peek(at), k, v, at); break; } // SETITEM
                case (byte)'u': // SETITEMS
                {
                    var items = PopMark(at);
                    if (items.Count % 2 != 0) throw Corrupt(at, "SETITEMS has an odd number of items");
                    var target = Peek(at);
                    for (int i = 0; i < items.Count; i += 2) SetItem(target, items[i], items[i + 1], at);
                    break;
                }

                case (byte)'q': _memo[ReadByte()] = Peek(at); break; // BINPUT
                case (byte)'r': _memo[ReadUInt32()] = Peek(at); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(at); break; // MEMOIZE
                case (byte)'p': _memo[ParseTextLong(ReadLine(), at)] = Peek(at); break; // PUT
                case (byte)'h': Push(MemoGet(ReadByte(), at)); break; // BINGET
                case (byte)'j': Push(MemoGet(ReadUInt32(), at)); break; // LONG_BINGET
                case (byte)'g': Push(MemoGet(ParseTextLong(ReadLine(), at), at)); break; // GET

                case (byte)'c': // GLOBAL "module\nname\n"
                {
                    var module = ReadLine();
                    var name = ReadLine();
                    Push(findGlobal(module, name));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop(at) as string ?? throw Corrupt(at, "STACK_GLOBAL name is not a string");
                    var module = Pop(at) as string ?? throw Corrupt(at, "STACK_GLOBAL module is not a string");
                    Push(findGlobal(module, name));
                    break;
                }
                case (byte)'R': // REDUCE: callable(*args)
                {
                    var args = Pop(at) as PyTuple ?? throw Corrupt(at, "REDUCE arguments are not a tuple");
                    Push(Call(Pop(at), args.Items, at));
                    break;
                }
                case 0x81: // NEWOBJ: cls.__new__(cls, *args)
                {
                    var args = Pop(at) as PyTuple ?? throw Corrupt(at, "NEWOBJ arguments are not a tuple");
                    Push(Call(Pop(at), args.Items, at));
                    break;
                }
                case 0x92: // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
                {
                    Pop(at); // kwargs: none of the allow-listed constructors take any
                    var args = Pop(at) as PyTuple ?? throw Corrupt(at, "NEWOBJ_EX arguments are not a tuple");
                    Push(Call(Pop(at), args.Items, at));
                    break;
                }
                case (byte)'b': // BUILD: obj.__setstate__(state). The state (e.g. a state dict's _metadata) is not needed.
                    Pop(at);
                    Peek(at);
                    break;

                case (byte)'Q': Push(persistentLoad(Pop(at))); break; // BINPERSID
                case (byte)'P': Push(persistentLoad(ReadLine())); break; // PERSID

                default:
                    throw new CheckpointException(
                        $"{source}: unsupported pickle opcode 0x{op:x2} ('{(op is >= 0x20 and < 0x7f ? (char)op : '?')}') at byte {at}; " +
                        "CoCa.MLNet reads the pickle subset that torch.save writes for state dicts.");
            }
        }
    }

    private object? Call(object? callable, object?[] args, int at) => callable switch
    {
        IPyCallable c => c.Call(args, source),
        PyOpaque o => new PyOpaque(o.GlobalName), // never executed: the result stays an inert marker
        _ => throw Corrupt(at, $"cannot call a {PyRepr.TypeName(callable)}"),
    };

    private void SetItem(object? target, object? key, object? value, int at)
    {
        switch (target)
        {
            case PyDict dict: dict.Set(key, value, source); break;
            case PyOpaque: break; // items of an unsupported object are dropped with it
            default: throw Corrupt(at, $"SETITEM on a {PyRepr.TypeName(target)}");
        }
    }

    private PyDict DictFrom(List<object?> items, int at)
    {
        if (items.Count % 2 != 0) throw Corrupt(at, "DICT has an odd number of items");
        var dict = new PyDict();
        for (int i = 0; i < items.Count; i += 2) dict.Set(items[i], items[i + 1], source);
        return dict;
    }

    private List<object?> AsList(object? target, int at) =>
        target as List<object?> ?? throw Corrupt(at, $"APPEND on a {PyRepr.TypeName(target)}");

    private object? MemoGet(long index, int at) =>
        _memo.TryGetValue(index, out var v) ? v : throw Corrupt(at, $"memo slot {index} was never stored");

    private void Push(object? value) => _stack.Add(value);

    private object? Pop(int at)
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _stack.Count == _marks[^1])) throw Corrupt(at, "stack underflow");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek(int at)
    {
        if (_stack.Count == 0) throw Corrupt(at, "stack underflow");
        return _stack[^1];
    }

    private List<object?> PopMark(int at)
    {
        if (_marks.Count == 0) throw Corrupt(at, "no MARK to pop to");
        int start = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private CheckpointException Corrupt(int at, string what) =>
        new($"{source}: malformed pickle at byte {at}: {what} (the file is corrupt or not a torch.save state dict).");

    private CheckpointException Truncated() =>
        new($"{source}: pickle data ends unexpectedly at byte {_pos} of {data.Length} (truncated or corrupt).");

    private byte ReadByte() => _pos < data.Length ? data[_pos++] : throw Truncated();

    private ReadOnlySpan<byte> ReadSpan(int count)
    {
        if (count > data.Length - _pos) throw Truncated();
        var span = data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    private ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(ReadSpan(2));
    private int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(ReadSpan(4));
    private uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4));
    private ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadSpan(8));

    private int ReadCount(long count, int at)
    {
        if (count < 0) throw Corrupt(at, $"negative length {count}");
        return count <= data.Length - _pos ? (int)count : throw Truncated();
    }

    private int ReadCount(ulong count, int at) => count <= (ulong)(data.Length - _pos) ? (int)count : throw Truncated();

    private string ReadUtf8(int count)
    {
        try { return new UTF8Encoding(false, true).GetString(ReadSpan(count)); }
        catch (DecoderFallbackException) { throw new CheckpointException($"{source}: a pickled string near byte {_pos} is not valid UTF-8 (corrupt file)."); }
    }

    private string ReadLatin1(int count) => Encoding.Latin1.GetString(ReadSpan(count));

    private string ReadLine()
    {
        int end = Array.IndexOf(data, (byte)'\n', _pos);
        if (end < 0) throw Truncated();
        var line = Encoding.UTF8.GetString(data, _pos, end - _pos);
        _pos = end + 1;
        return line;
    }

    /// <summary>LONG1/LONG4 payload: little-endian two's complement.</summary>
    private object ReadLong(int count)
    {
        var bytes = ReadSpan(count);
        if (count == 0) return 0L;
        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (long)big : big;
    }

    private object ParseTextInt(string line, int at) => line switch
    {
        "01" => true,
        "00" => false,
        _ => ParseTextLong(line, at),
    };

    private long ParseTextLong(string line, int at) =>
        long.TryParse(line.TrimEnd('L'), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v : throw Corrupt(at, $"'{line}' is not an integer");

    private double ParseTextFloat(string line, int at) =>
        double.TryParse(line, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw Corrupt(at, $"'{line}' is not a float");
}
