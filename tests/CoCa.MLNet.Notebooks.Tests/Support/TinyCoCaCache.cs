using CoCa.MLNet.Demo;

namespace CoCa.MLNet.Notebooks.Tests.Support;

/// <summary>
/// The walkthroughs' tiny CoCa (TinyCoCa.Get: trained once per recipe into the user's cache folder), made here before the
/// first notebook or sample runs, so its minute or two of training is not charged to one notebook's or app's time limit.
/// The notebooks and apps then find it in the cache.
/// </summary>
internal static class TinyCoCaCache
{
    private static readonly Lazy<TinyCoCaModel> Lazy = new(() => TinyCoCa.Get(log: Console.WriteLine));

    public static TinyCoCaModel Model => Lazy.Value;
}
