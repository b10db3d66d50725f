using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.LeaderElection;

namespace Cd4ml.Runtime.Hosting;

public sealed record ControllerManagerOptions
{
    /// <summary>Name used as event source (reportingController) and in logs.</summary>
    public string Name { get; init; } = "cd4ml-operator";

    /// <summary>Restricts every informer to one namespace; null watches all namespaces.</summary>
    public string? Namespace { get; init; }

    public LeaderElectionOptions LeaderElection { get; init; } = new();

    public InformerOptions Informers { get; init; } = new();

    /// <summary>How long in-flight reconciles may run after shutdown starts before they are cancelled.</summary>
    public TimeSpan ShutdownGracePeriod { get; init; } = TimeSpan.FromSeconds(10);
}
