namespace CoCa.MLNet.Configuration;

/// <summary>An open_clip model config that is malformed or describes a model CoCa.MLNet cannot run.</summary>
public sealed class CoCaConfigException : Exception
{
    public CoCaConfigException(string message) : base(message) { }
    public CoCaConfigException(string message, Exception inner) : base(message, inner) { }
}
