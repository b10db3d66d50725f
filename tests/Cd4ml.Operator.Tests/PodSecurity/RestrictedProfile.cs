using k8s.Models;

namespace Cd4ml.Operator.Tests.PodSecurity;

/// <summary>
/// The Pod Security Standard <c>restricted</c> profile (baseline + restricted controls, as Pod Security admission
/// enforces them since Kubernetes 1.25), as a pure function over a pod spec: the 1.20 test apiserver has no Pod
/// Security admission, so the tests check the operator's pods with this instead. Each violation names the field.
/// https://kubernetes.io/docs/concepts/security/pod-security-standards/
/// </summary>
public static class RestrictedProfile
{
    private static readonly HashSet<string> AllowedVolumeTypes =
        ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

    private static readonly HashSet<string> SafeSysctls =
    [
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    ];

    private static readonly HashSet<string> AllowedSeLinuxTypes = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

    public static IReadOnlyList<string> Violations(V1PodSpec pod)
    {
        var violations = new List<string>();
        void Check(bool ok, string violation)
        {
            if (!ok)
            {
                violations.Add(violation);
            }
        }

        var podContext = pod.SecurityContext;
        Check(pod.HostNetwork != true, "spec.hostNetwork must be unset or false");
        Check(pod.HostPID != true, "spec.hostPID must be unset or false");
        Check(pod.HostIPC != true, "spec.hostIPC must be unset or false");
        Check(podContext?.WindowsOptions?.HostProcess != true, "spec.securityContext.windowsOptions.hostProcess must not be true");
        Check(podContext?.RunAsUser != 0, "spec.securityContext.runAsUser must not be 0");
        Check(podContext?.RunAsNonRoot != false, "spec.securityContext.runAsNonRoot must not be false");
        Check(podContext?.SeccompProfile?.Type is null or "RuntimeDefault" or "Localhost",
            "spec.securityContext.seccompProfile.type must be RuntimeDefault or Localhost");
        Check(SeLinuxAllowed(podContext?.SeLinuxOptions), "spec.securityContext.seLinuxOptions: type must be a container type, user and role unset");
        foreach (var sysctl in podContext?.Sysctls ?? [])
        {
            Check(SafeSysctls.Contains(sysctl.Name), $"spec.securityContext.sysctls: {sysctl.Name} is not a safe sysctl");
        }

        foreach (var volume in pod.Volumes ?? [])
        {
            var type = VolumeType(volume);
            Check(type is not null && AllowedVolumeTypes.Contains(type),
                $"spec.volumes[{volume.Name}]: type {type ?? "(none)"} is not allowed (configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret)");
        }

        var containers = (pod.InitContainers ?? []).Select(c => ($"spec.initContainers[{c.Name}]", c))
            .Concat(pod.Containers.Select(c => ($"spec.containers[{c.Name}]", c)));
        foreach (var (path, container) in containers)
        {
            var context = container.SecurityContext;
            Check(context?.Privileged != true, $"{path}.securityContext.privileged must be unset or false");
            Check(context?.AllowPrivilegeEscalation == false, $"{path}.securityContext.allowPrivilegeEscalation must be false");
            Check((context?.RunAsNonRoot ?? podContext?.RunAsNonRoot) == true,
                $"{path}.securityContext.runAsNonRoot must be true (here or in spec.securityContext)");
            Check(context?.RunAsUser != 0, $"{path}.securityContext.runAsUser must not be 0");
            Check((context?.SeccompProfile?.Type ?? podContext?.SeccompProfile?.Type) is "RuntimeDefault" or "Localhost",
                $"{path}.securityContext.seccompProfile.type must be RuntimeDefault or Localhost (here or in spec.securityContext)");
            Check(context?.Capabilities?.Drop?.Contains("ALL") == true, $"{path}.securityContext.capabilities.drop must include ALL");
            Check((context?.Capabilities?.Add ?? []).All(c => c == "NET_BIND_SERVICE"),
                $"{path}.securityContext.capabilities.add may only hold NET_BIND_SERVICE");
            Check(context?.ProcMount is null or "Default", $"{path}.securityContext.procMount must be Default");
            Check(context?.WindowsOptions?.HostProcess != true, $"{path}.securityContext.windowsOptions.hostProcess must not be true");
            Check(SeLinuxAllowed(context?.SeLinuxOptions), $"{path}.securityContext.seLinuxOptions: type must be a container type, user and role unset");
            foreach (var port in container.Ports ?? [])
            {
                Check(port.HostPort is null or 0, $"{path}.ports[{port.ContainerPort}].hostPort must be unset or 0");
            }
        }

        return violations;
    }

    private static bool SeLinuxAllowed(V1SELinuxOptions? options) =>
        options is null || (AllowedSeLinuxTypes.Contains(options.Type ?? "") && options.User is null && options.Role is null);

    /// <summary>The volume source that is set, by its JSON name (hostPath, emptyDir, ...).</summary>
    private static string? VolumeType(V1Volume volume)
    {
        var json = k8s.KubernetesJson.Serialize(volume);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => n != "name");
    }
}
