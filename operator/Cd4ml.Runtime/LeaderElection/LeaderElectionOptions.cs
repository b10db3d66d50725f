namespace Cd4ml.Runtime.LeaderElection;

/// <summary>Lease-based leader election settings (client-go defaults: 15 s lease, 10 s renew deadline, 2 s retry).</summary>
public sealed record LeaderElectionOptions
{
    /// <summary>When false this instance always leads (single replica, tests).</summary>
    public bool Enabled { get; init; } = true;

    public string LeaseName { get; init; } = "cd4ml-operator";

    public string LeaseNamespace { get; init; } = "default";

    /// <summary>Unique per process; the pod name in a cluster.</summary>
    public string Identity { get; init; } = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>How long a lease holder that stopped renewing keeps others out.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The leader gives up if it could not renew for this long.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Interval between acquire attempts and renewals.</summary>
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);
}
