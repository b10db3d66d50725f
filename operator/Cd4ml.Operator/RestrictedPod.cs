using k8s.Models;

namespace Cd4ml.Operator;

/// <summary>
/// What every Pod the operator creates (training Jobs, model servers) runs under: the Pod Security Standard
/// <c>restricted</c> profile, which multi-tenant namespaces enforce, plus a read-only root filesystem with a writable
/// emptyDir at /tmp (ML.NET unpacks models into a temporary directory), and resource requests so ResourceQuota
/// applies. The user is the image's own (the Dockerfile's <c>USER 65532:65532</c>), named explicitly so an image that
/// defaults to root still runs as non-root.
/// </summary>
public static class RestrictedPod
{
    public const long UserId = 65532;
    public const long GroupId = 65532;
    public const string TmpVolume = "tmp";
    public const string TmpPath = "/tmp";
    public const string TmpDirVariable = "TMPDIR";

    /// <summary>
    /// Applies the profile to <paramref name="spec"/> and every container in it; fills a cpu or memory request the
    /// container's resources do not already state (as a request or a limit) from <paramref name="defaultRequests"/>.
    /// Returns the same spec.
    /// </summary>
    public static V1PodSpec Apply(V1PodSpec spec, IReadOnlyDictionary<string, ResourceQuantity> defaultRequests)
    {
        spec.SecurityContext = new V1PodSecurityContext
        {
            RunAsNonRoot = true,
            RunAsUser = UserId,
            RunAsGroup = GroupId,
            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
        };
        spec.Volumes = [.. spec.Volumes ?? [], new V1Volume { Name = TmpVolume, EmptyDir = new V1EmptyDirVolumeSource() }];
        foreach (var container in spec.Containers)
        {
            container.SecurityContext = new V1SecurityContext
            {
                AllowPrivilegeEscalation = false,
                ReadOnlyRootFilesystem = true,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
            };
            container.VolumeMounts = [.. container.VolumeMounts ?? [], new V1VolumeMount { Name = TmpVolume, MountPath = TmpPath }];
            if (container.Env?.Any(e => e.Name == TmpDirVariable) != true)
            {
                container.Env = [.. container.Env ?? [], new V1EnvVar { Name = TmpDirVariable, Value = TmpPath }];
            }

            container.Resources = WithRequests(container.Resources, defaultRequests);
        }

        return spec;
    }

    /// <summary>
    /// A copy of <paramref name="resources"/> that requests every resource in <paramref name="defaults"/>: an
    /// explicit request wins, then a limit (what Kubernetes would default the request to), then the default.
    /// </summary>
    public static V1ResourceRequirements WithRequests(V1ResourceRequirements? resources,
        IReadOnlyDictionary<string, ResourceQuantity> defaults)
    {
        var requests = new Dictionary<string, ResourceQuantity>(resources?.Requests ?? new Dictionary<string, ResourceQuantity>());
        foreach (var (name, quantity) in defaults)
        {
            if (!requests.ContainsKey(name))
            {
                requests[name] = resources?.Limits?.TryGetValue(name, out var limit) == true ? limit : quantity;
            }
        }

        return new V1ResourceRequirements { Requests = requests, Limits = resources?.Limits };
    }
}
