using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Hosting;
using Cd4ml.Runtime.LeaderElection;
using Cd4ml.Runtime.Metrics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cd4ml.Runtime.Tests;

/// <summary>A controller manager in the test process: one namespace, no leader election, a private metrics registry.</summary>
internal sealed class TestOperator : IAsyncDisposable
{
    private TestOperator(ControllerManager manager, RuntimeMetrics metrics)
    {
        Manager = manager;
        Metrics = metrics;
    }

    public ControllerManager Manager { get; }

    public RuntimeMetrics Metrics { get; }

    public static TestOperator Create(IKubernetes client, string @namespace, ILoggerFactory? loggers = null,
        InformerOptions? informers = null)
    {
        var metrics = new RuntimeMetrics(Prometheus.Metrics.NewCustomRegistry());
        var manager = new ControllerManager(client, new ControllerManagerOptions
        {
            Namespace = @namespace,
            LeaderElection = new LeaderElectionOptions { Enabled = false },
            ShutdownGracePeriod = TimeSpan.FromSeconds(5),
            Informers = informers ?? new InformerOptions(),
        }, metrics, loggers ?? NullLoggerFactory.Instance);
        return new TestOperator(manager, metrics);
    }

    public TestOperator Add<T>(IReconciler<T> reconciler, Action<ControllerOptions<T>>? configure = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Manager.AddController(reconciler, configure);
        return this;
    }

    public async Task<TestOperator> StartAsync()
    {
        await Manager.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => Manager.IsLeading, "controller manager leading");
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        await Manager.StopAsync(CancellationToken.None);
        Manager.Dispose();
    }
}

internal static class Wait
{
    public static Task UntilAsync(Func<bool> condition, string what, double seconds = 30) =>
        Cd4ml.Testing.ControlPlane.WaitUntilAsync(() => Task.FromResult(condition()), TimeSpan.FromSeconds(seconds), what);

    public static Task UntilAsync(Func<Task<bool>> condition, string what, double seconds = 30) =>
        Cd4ml.Testing.ControlPlane.WaitUntilAsync(condition, TimeSpan.FromSeconds(seconds), what);
}
