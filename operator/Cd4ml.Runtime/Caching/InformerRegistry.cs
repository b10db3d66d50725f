using Cd4ml.Runtime.Metrics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Runtime.Caching;

/// <summary>Hands out one shared informer per kind, optionally restricted to one namespace.</summary>
public sealed class InformerRegistry(IKubernetes kubernetes, string? @namespace, RuntimeMetrics metrics,
    ILoggerFactory loggerFactory, InformerOptions? options = null)
{
    private readonly Dictionary<Type, IResourceInformer> informers = [];

    public IReadOnlyCollection<IResourceInformer> All
    {
        get
        {
            lock (informers)
            {
                return informers.Values.ToList();
            }
        }
    }

    /// <summary>The informer of <typeparamref name="T"/>, a kind the manager waits for (made required if it was optional).</summary>
    public ResourceInformer<T> Get<T>() where T : class, IKubernetesObject<V1ObjectMeta> => Get<T>(optional: false);

    /// <summary>
    /// The informer of <typeparamref name="T"/>, a kind the cluster may not serve: optional unless some other use
    /// requires it (see <see cref="ResourceInformer{T}.IsOptional"/>).
    /// </summary>
    public ResourceInformer<T> GetOptional<T>() where T : class, IKubernetesObject<V1ObjectMeta> => Get<T>(optional: true);

    private ResourceInformer<T> Get<T>(bool optional) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (informers)
        {
            if (!informers.TryGetValue(typeof(T), out var existing))
            {
                var created = new ResourceInformer<T>(kubernetes, @namespace, metrics,
                    loggerFactory.CreateLogger<ResourceInformer<T>>(), options) { IsOptional = optional };
                informers.Add(typeof(T), created);
                return created;
            }

            var informer = (ResourceInformer<T>)existing;
            informer.IsOptional &= optional;
            return informer;
        }
    }
}
