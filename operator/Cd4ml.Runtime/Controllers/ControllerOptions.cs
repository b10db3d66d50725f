using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.Controllers;

/// <summary>
/// How a controller is wired: which other kinds wake it up, how many workers it runs and how often it resyncs.
/// <code>options => options.Owns&lt;V1Job&gt;().Watches&lt;V1Pod&gt;(MapPodToRun).Workers(2).Resync(TimeSpan.FromMinutes(10))</code>
/// </summary>
public sealed class ControllerOptions<TEntity> where TEntity : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly List<Action<InformerRegistry, Action<NamespacedName>>> sources = [];

    public string Name { get; private set; } = ResourceType.Of<TEntity>().Kind.ToLowerInvariant();

    /// <summary>
    /// Reconciles spend most of their time waiting for the API server, so by default this many run at once (never two
    /// for the same key); a serial controller falls far behind when many objects change together.
    /// </summary>
    public const int DefaultWorkerCount = 16;

    public int WorkerCount { get; private set; } = DefaultWorkerCount;

    public TimeSpan? ResyncPeriod { get; private set; }

    /// <summary>Which updates of the primary kind are reconciled; by default spec and metadata changes, not status.</summary>
    public Func<TEntity?, TEntity, bool> UpdateFilter { get; private set; } = Predicates.GenerationOrMetadataChanged;

    internal IReadOnlyList<Action<InformerRegistry, Action<NamespacedName>>> Sources => sources;

    /// <summary>
    /// Changes to <typeparamref name="TChild"/> objects whose controller owner reference points at a
    /// <typeparamref name="TEntity"/> reconcile that owner.
    /// </summary>
    public ControllerOptions<TEntity> Owns<TChild>() where TChild : class, IKubernetesObject<V1ObjectMeta>
    {
        var owner = ResourceType.Of<TEntity>();
        sources.Add((informers, enqueue) => informers.Get<TChild>().AddHandler(change =>
        {
            EnqueueOwner(change.Object, owner, enqueue);
            if (change.Old is not null)
            {
                EnqueueOwner(change.Old, owner, enqueue);
            }
        }));
        return this;
    }

    /// <summary>
    /// Any change to a <typeparamref name="TOther"/> reconciles the keys <paramref name="map"/> returns for the object
    /// as it is now and, for an update or delete, as it was before: an object that stops pointing at a key reconciles
    /// that key too (as controller-runtime's EnqueueRequestsFromMapFunc does), so no controller has to remember old state.
    /// </summary>
    public ControllerOptions<TEntity> Watches<TOther>(Func<TOther, IEnumerable<NamespacedName>> map)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        sources.Add((informers, enqueue) => informers.Get<TOther>().AddHandler(change => EnqueueMapped(change, map, enqueue)));
        return this;
    }

    /// <summary>
    /// Like <see cref="Watches{TOther}"/>, for a kind the cluster may not serve (a CRD installed separately, such as
    /// Gateway API's HTTPRoute): the manager does not wait for its cache, and while the API server answers 404 for it the
    /// informer logs that once, checks again every <see cref="InformerOptions.MissingKindRecheck"/> and starts watching
    /// once the kind is served. From then on it behaves like any watch.
    /// </summary>
    public ControllerOptions<TEntity> WatchesOptional<TOther>(Func<TOther, IEnumerable<NamespacedName>> map)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        sources.Add((informers, enqueue) =>
            informers.GetOptional<TOther>().AddHandler(change => EnqueueMapped(change, map, enqueue)));
        return this;
    }

    public ControllerOptions<TEntity> Workers(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        WorkerCount = count;
        return this;
    }

    /// <summary>Reconciles every cached object again at this period, even without changes.</summary>
    public ControllerOptions<TEntity> Resync(TimeSpan period)
    {
        ResyncPeriod = period;
        return this;
    }

    public ControllerOptions<TEntity> Named(string name)
    {
        Name = name;
        return this;
    }

    public ControllerOptions<TEntity> FilterUpdates(Func<TEntity?, TEntity, bool> filter)
    {
        UpdateFilter = filter;
        return this;
    }

    private static void EnqueueMapped<TOther>(InformerEvent<TOther> change, Func<TOther, IEnumerable<NamespacedName>> map,
        Action<NamespacedName> enqueue)
    {
        var keys = map(change.Object);
        if (change.Old is { } old && !ReferenceEquals(old, change.Object))
        {
            keys = keys.Union(map(old));
        }

        foreach (var key in keys)
        {
            enqueue(key);
        }
    }

    private static void EnqueueOwner(IKubernetesObject<V1ObjectMeta> child, ResourceType owner, Action<NamespacedName> enqueue)
    {
        foreach (var reference in child.Metadata.OwnerReferences ?? [])
        {
            if (reference.Controller == true && reference.Kind == owner.Kind && reference.ApiVersion == owner.ApiVersion)
            {
                enqueue(new NamespacedName(child.Metadata.NamespaceProperty, reference.Name));
            }
        }
    }
}
