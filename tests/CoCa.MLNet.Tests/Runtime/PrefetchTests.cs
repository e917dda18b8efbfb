using CoCa.MLNet.Runtime;

namespace CoCa.MLNet.Tests.Runtime;

public class PrefetchTests
{
    [Fact]
    public void KeepsOrderAndStaysWithinItsBound()
    {
        int produced = 0, consumed = 0, maxAhead = 0;
        IEnumerable<int> Source()
        {
            for (int i = 0; i < 50; i++)
            {
                int ahead = Interlocked.Increment(ref produced) - Volatile.Read(ref consumed);
                InterlockedMax(ref maxAhead, ahead);
                yield return i;
            }
        }
        var got = new List<int>();
        foreach (var item in Prefetch.Ahead(Source(), capacity: 2))
        {
            Thread.Sleep(1); // a slow consumer: the producer runs into the bound
            got.Add(item);
            Interlocked.Increment(ref consumed);
        }
        Assert.Equal(Enumerable.Range(0, 50), got);
        // capacity waiting + the one being handed over + the one the producer is making
        Assert.InRange(maxAhead, 1, 2 + 2);
    }

    [Fact]
    public void RunsTheProducerWhileTheConsumerWorks()
    {
        var consumer = Environment.CurrentManagedThreadId;
        var producerThreads = new HashSet<int>();
        foreach (var _ in Prefetch.Ahead(Enumerable.Range(0, 3).Select(i => { lock (producerThreads) producerThreads.Add(Environment.CurrentManagedThreadId); return i; })))
        {
        }
        Assert.DoesNotContain(consumer, producerThreads);
    }

    [Fact]
    public void AnErrorSurfacesAtItsPositionAfterTheItemsBeforeIt()
    {
        IEnumerable<int> Source()
        {
            yield return 0;
            yield return 1;
            throw new InvalidDataException("bad item 2");
        }
        var got = new List<int>();
        var e = Assert.Throws<InvalidDataException>(() => { foreach (var i in Prefetch.Ahead(Source())) got.Add(i); });
        Assert.Equal("bad item 2", e.Message);
        Assert.Equal([0, 1], got);
    }

    [Fact]
    public void StoppingEarlyStopsTheProducerAndReleasesWhatItMade()
    {
        int produced = 0;
        var made = new List<Tracked>();
        IEnumerable<Tracked> Source()
        {
            while (true)
            {
                Interlocked.Increment(ref produced);
                var t = new Tracked();
                lock (made) made.Add(t);
                yield return t;
            }
        }
        var first = Prefetch.Ahead(Source(), capacity: 1).Take(3).ToList();
        int after = Volatile.Read(ref produced);
        Thread.Sleep(50);
        Assert.Equal(after, Volatile.Read(ref produced)); // the producer has ended
        Assert.InRange(after, 3, 3 + 2);
        Assert.All(made.Except(first), t => Assert.True(t.Disposed)); // prefetched but never handed out: disposed
    }

    private sealed class Tracked : IDisposable
    {
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
