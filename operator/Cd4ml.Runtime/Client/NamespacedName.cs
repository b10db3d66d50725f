using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.Client;

/// <summary>The identity of an object inside its kind: what the work queue carries.</summary>
public readonly record struct NamespacedName(string? Namespace, string Name)
{
    public static NamespacedName Of(IKubernetesObject<V1ObjectMeta> entity) =>
        new(entity.Metadata.NamespaceProperty, entity.Metadata.Name);

    public override string ToString() => string.IsNullOrEmpty(Namespace) ? Name : $"{Namespace}/{Name}";
}
