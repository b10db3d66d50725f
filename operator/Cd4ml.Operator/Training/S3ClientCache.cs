using Amazon.S3;
using Cd4ml.Artifacts;

namespace Cd4ml.Operator.Training;

/// <summary>
/// Where a cached client points and whose credentials it carries: endpoint, region, path style and the credentials'
/// source (a Secret by namespace/name, or the SDK's ambient chain when <paramref name="Credentials"/> is null).
/// </summary>
public sealed record S3ClientSlot(string? ServiceUrl, string Region, bool ForcePathStyle, string? Credentials);

/// <summary>
/// S3 clients shared by reconciles instead of one per reconcile. Each <see cref="S3ClientSlot"/> keeps one client
/// together with the version of its credentials (the Secret's uid and resourceVersion); a lease with another version
/// replaces the client, and the replaced one is disposed as soon as the last lease on it is returned, so a rotated
/// Secret takes effect on the next reconcile without pulling a client from under a reconcile still using it.
/// </summary>
public sealed class S3ClientCache(Func<S3Settings, IAmazonS3> createClient) : IDisposable
{
    private readonly Dictionary<S3ClientSlot, Entry> entries = [];
    private readonly Lock gate = new();
    private bool disposed;

    public S3ClientCache() : this(settings => settings.CreateClient())
    {
    }

    /// <summary>A client for <paramref name="settings"/>; dispose the lease when done with it.</summary>
    public S3ClientLease Lease(S3ClientSlot slot, string credentialsVersion, S3Settings settings)
    {
        Entry? replaced = null;
        Entry entry;
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (!entries.TryGetValue(slot, out var cached) || cached.CredentialsVersion != credentialsVersion)
            {
                replaced = cached;
                cached = new Entry(credentialsVersion, createClient(settings));
                entries[slot] = cached;
            }

            entry = cached;
            entry.Leases++;
            if (replaced is not null)
            {
                replaced.Retired = true;
                replaced = replaced.Leases == 0 ? replaced : null;
            }
        }

        replaced?.Client.Dispose();
        return new S3ClientLease(this, entry);
    }

    public void Dispose()
    {
        List<Entry> idle;
        lock (gate)
        {
            disposed = true;
            foreach (var entry in entries.Values)
            {
                entry.Retired = true;
            }

            idle = entries.Values.Where(e => e.Leases == 0).ToList();
            entries.Clear();
        }

        foreach (var entry in idle)
        {
            entry.Client.Dispose();
        }
    }

    internal void Return(Entry entry)
    {
        bool dispose;
        lock (gate)
        {
            entry.Leases--;
            dispose = entry.Retired && entry.Leases == 0;
        }

        if (dispose)
        {
            entry.Client.Dispose();
        }
    }

    internal sealed class Entry(string credentialsVersion, IAmazonS3 client)
    {
        public string CredentialsVersion { get; } = credentialsVersion;
        public IAmazonS3 Client { get; } = client;
        public int Leases { get; set; }
        public bool Retired { get; set; }
    }
}

/// <summary>The use of a cached client for one reconcile; disposing it returns the client to the cache.</summary>
public sealed class S3ClientLease : IDisposable
{
    private readonly S3ClientCache cache;
    private readonly S3ClientCache.Entry entry;
    private int returned;

    internal S3ClientLease(S3ClientCache cache, S3ClientCache.Entry entry)
    {
        this.cache = cache;
        this.entry = entry;
        Store = new ArtifactStore(entry.Client);
    }

    public ArtifactStore Store { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref returned, 1) == 0)
        {
            cache.Return(entry);
        }
    }
}
