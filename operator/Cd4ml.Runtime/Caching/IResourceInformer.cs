namespace Cd4ml.Runtime.Caching;

/// <summary>What the controller manager needs from an informer regardless of its kind.</summary>
public interface IResourceInformer
{
    string Kind { get; }

    bool HasSynced { get; }

    /// <summary>The manager does not wait for an optional informer's cache; see <see cref="ResourceInformer{T}.IsOptional"/>.</summary>
    bool IsOptional { get; }

    Task RunAsync(CancellationToken ct);

    /// <summary>Completes once the first full list has been loaded into the cache.</summary>
    Task WaitForSyncAsync(CancellationToken ct);
}
