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

    public ResourceInformer<T> Get<T>() where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (informers)
        {
            if (!informers.TryGetValue(typeof(T), out var informer))
            {
                informer = new ResourceInformer<T>(kubernetes, @namespace, metrics,
                    loggerFactory.CreateLogger<ResourceInformer<T>>(), options);
                informers.Add(typeof(T), informer);
            }

            return (ResourceInformer<T>)informer;
        }
    }
}
