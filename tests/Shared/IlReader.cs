using System.Reflection;
using System.Reflection.Emit;

namespace CoCa.MLNet.Tests.Shared;

/// <summary>
/// Reads a method body's IL and resolves the members its instructions name: methods (call, callvirt, newobj, ldftn),
/// fields (ldfld, stsfld, ...), types (newarr, castclass, box, ...) and tokens (ldtoken). Used by the scans that check
/// the compiled assemblies (implicit TorchSharp Scalars, namespace dependencies).
/// </summary>
internal static class IlReader
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The methods called (call, callvirt, newobj, ldftn) by a method's IL body.</summary>
    public static IEnumerable<MethodBase> Calls(MethodBase context) => References(context).OfType<MethodBase>();

    /// <summary>Every method, field and type the IL body of <paramref name="context"/> names (those that resolve).</summary>
    public static IEnumerable<MemberInfo> References(MethodBase context)
    {
        byte[]? il;
        try { il = context.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException) { yield break; }
        if (il is null) yield break;
        var module = context.Module;
        var typeArguments = context.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        var methodArguments = context.IsGenericMethod ? context.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            int operand = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                MemberInfo? member = null;
                try
                {
                    int token = BitConverter.ToInt32(il, i);
                    member = op.OperandType switch
                    {
                        OperandType.InlineMethod => module.ResolveMethod(token, typeArguments, methodArguments),
                        OperandType.InlineField => module.ResolveField(token, typeArguments, methodArguments),
                        OperandType.InlineType => module.ResolveType(token, typeArguments, methodArguments),
                        _ => module.ResolveMember(token, typeArguments, methodArguments),
                    };
                }
                catch (ArgumentException) { }
                if (member is not null) yield return member;
            }
            i += operand;
        }
    }
}
