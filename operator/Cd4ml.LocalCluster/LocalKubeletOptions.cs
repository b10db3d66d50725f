using k8s.Models;

namespace Cd4ml.LocalCluster;

/// <summary>How the local kubelet runs Pods on this machine.</summary>
public sealed record LocalKubeletOptions
{
    public string NodeName { get; init; } = "local-node";

    /// <summary>
    /// The cd4ml CLI (cd4ml.dll). Containers of an image named like <c>…/cd4ml:…</c> run it with the container's
    /// args, as the image's entrypoint would; a container command <c>cd4ml</c> does too.
    /// </summary>
    public string? Cd4mlCliPath { get; init; }

    /// <summary>Maps other images to a local command line; return null for images that cannot run here.</summary>
    public Func<V1Container, IReadOnlyList<string>?>? ResolveImage { get; init; }

    /// <summary>Where each container's output is written (one file per container); a temp folder when null.</summary>
    public string? LogDirectory { get; init; }

    /// <summary>How often Pods are listed and reconciled (a real kubelet relists about once a second).</summary>
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Node status heartbeat; the node lifecycle controller marks a node unreachable after 40 s of silence.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Caps probe periods (tests use short ones); null honours the Pod spec (default 10 s) as a kubelet does.</summary>
    public TimeSpan? MaxProbePeriod { get; init; }

    /// <summary>Largest restart back-off for restartPolicy Always/OnFailure (a real kubelet goes up to 5 minutes).</summary>
    public TimeSpan MaxRestartBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Called with every running Pod annotated prometheus.io/scrape=true whenever that set changes.</summary>
    public Func<IReadOnlyList<ScrapeTarget>, Task>? ScrapeTargetsChanged { get; init; }
}

/// <summary>A Pod endpoint Prometheus should scrape, with the labels kubernetes_sd relabelling usually gives.</summary>
public sealed record ScrapeTarget(string Address, IReadOnlyDictionary<string, string> Labels);
