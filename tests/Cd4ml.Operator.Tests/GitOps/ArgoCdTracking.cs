using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.GitOps;

/// <summary>
/// What Argo CD uses to decide that an object belongs to an Application (and so is pruned or reported as drift when it
/// is not in Git): its tracking label or annotation. The operator must never copy them onto what it creates.
/// </summary>
internal static class ArgoCdTracking
{
    public const string InstanceLabel = "app.kubernetes.io/instance";
    public const string TrackingIdAnnotation = "argocd.argoproj.io/tracking-id";

    /// <summary>Marks <paramref name="metadata"/> the way Argo CD marks an object it synced from Git.</summary>
    public static void Mark(V1ObjectMeta metadata, string kind)
    {
        (metadata.Labels ??= new Dictionary<string, string>())[InstanceLabel] = "team-a-staging";
        (metadata.Annotations ??= new Dictionary<string, string>())[TrackingIdAnnotation] =
            $"team-a-staging:cd4ml.io/{kind}:{metadata.NamespaceProperty}/{metadata.Name}";
    }

    public static void AssertUntracked(IKubernetesObject<V1ObjectMeta> created, V1ObjectMeta? podTemplate = null)
    {
        foreach (var metadata in new[] { created.Metadata, podTemplate }.OfType<V1ObjectMeta>())
        {
            var what = $"{created.Kind} {created.Metadata.Name}";
            Assert.That(metadata.Labels?.Keys ?? [], Does.Not.Contain(InstanceLabel), what);
            Assert.That(metadata.Annotations?.Keys ?? [], Has.None.StartsWith("argocd.argoproj.io/"), what);
        }
    }
}
