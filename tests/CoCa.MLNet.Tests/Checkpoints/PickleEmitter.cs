using System.Buffers.Binary;
using System.Text;

namespace CoCa.MLNet.Tests.Checkpoints;

/// <summary>
/// Writes pickle opcodes the way CPython's pickler does for torch.save: protocol 2 (torch's default: GLOBAL,
/// BINUNICODE, BINPUT/BINGET memo) or protocol 4 (FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE).
/// Globals and repeated strings are memoised and fetched with BINGET, as the real pickler does.
/// </summary>
internal sealed class PickleEmitter(int protocol)
{
    private readonly MemoryStream _body = new();
    private readonly Dictionary<string, int> _memo = new(StringComparer.Ordinal);
    private int _nextMemo;

    public int Protocol { get; } = protocol;

    public PickleEmitter Op(byte op) { _body.WriteByte(op); return this; }
    public PickleEmitter Op(char op) => Op((byte)op);

    public PickleEmitter Mark() => Op('(');
    public PickleEmitter EmptyTuple() => Op(')');
    public PickleEmitter Tuple() => Op('t');
    public PickleEmitter EmptyDict() => Op('}');
    public PickleEmitter EmptyList() => Op(']');
    public PickleEmitter SetItem() => Op('s');
    public PickleEmitter SetItems() => Op('u');
    public PickleEmitter Appends() => Op('e');
    public PickleEmitter Reduce() => Op('R');
    public PickleEmitter Build() => Op('b');
    public PickleEmitter BinPersId() => Op('Q');
    public PickleEmitter Bool(bool value) => Op(value ? (byte)0x88 : (byte)0x89);
    public PickleEmitter None() => Op('N');

    public PickleEmitter Int(long value)
    {
        if (value is >= 0 and < 256) { Op('K'); _body.WriteByte((byte)value); }
        else if (value is >= 0 and < 65536) { Op('M'); Write16((ushort)value); }
        else if (value is >= int.MinValue and <= int.MaxValue) { Op('J'); Write32((int)value); }
        else
        {
            Op(0x8a); // LONG1
            var bytes = new System.Numerics.BigInteger(value).ToByteArray();
            _body.WriteByte((byte)bytes.Length);
            _body.Write(bytes);
        }
        return this;
    }

    public PickleEmitter Float(double value)
    {
        Op('G');
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(b, value);
        _body.Write(b);
        return this;
    }

    /// <summary>A str, memoised: a second occurrence is a BINGET, like the pickler's memo of identical objects.</summary>
    public PickleEmitter String(string value, bool memoise = true)
    {
        if (memoise && _memo.TryGetValue("s:" + value, out var slot)) return Get(slot);
        var bytes = Encoding.UTF8.GetBytes(value);
        if (Protocol >= 4 && bytes.Length < 256) { Op(0x8c); _body.WriteByte((byte)bytes.Length); }
        else { Op('X'); Write32(bytes.Length); }
        _body.Write(bytes);
        if (memoise) Put("s:" + value);
        return this;
    }

    public PickleEmitter Global(string module, string name)
    {
        var key = "g:" + module + "." + name;
        if (_memo.TryGetValue(key, out var slot)) return Get(slot);
        if (Protocol >= 4)
        {
            String(module, memoise: false);
            String(name, memoise: false);
            Op(0x93); // STACK_GLOBAL
        }
        else
        {
            Op('c');
            _body.Write(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));
        }
        return Put(key);
    }

    /// <summary>Memoises the top of the stack (BINPUT, or MEMOIZE in protocol 4).</summary>
    public PickleEmitter Put(string? key = null)
    {
        int slot = _nextMemo++;
        if (key is not null) _memo[key] = slot;
        if (Protocol >= 4) return Op(0x94);
        if (slot < 256) { Op('q'); _body.WriteByte((byte)slot); }
        else { Op('r'); Write32(slot); }
        return this;
    }

    public PickleEmitter Get(int slot)
    {
        if (slot < 256) { Op('h'); _body.WriteByte((byte)slot); }
        else { Op('j'); Write32(slot); }
        return this;
    }

    /// <summary>PROTO header (+ one FRAME around the body for protocol 4), body, STOP.</summary>
    public byte[] ToArray()
    {
        var result = new MemoryStream();
        result.WriteByte(0x80);
        result.WriteByte((byte)Protocol);
        var body = _body.ToArray();
        if (Protocol >= 4)
        {
            result.WriteByte(0x95);
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)body.Length + 1);
            result.Write(len);
        }
        result.Write(body);
        result.WriteByte((byte)'.');
        return result.ToArray();
    }

    private void Write16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); _body.Write(b); }
    private void Write32(int v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); _body.Write(b); }
}
