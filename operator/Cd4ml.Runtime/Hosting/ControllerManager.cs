using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.LeaderElection;
using Cd4ml.Runtime.Metrics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Runtime.Hosting;

/// <summary>
/// Hosts the controllers: starts one shared informer per kind, waits for the caches of all but the optional ones to
/// sync, then runs the controllers only while this instance is leader. Every replica keeps its caches warm, so a
/// standby is ready (<see cref="IsReady"/>) and takes over without a cold start. On shutdown it stops taking work, lets in-flight reconciles
/// finish (bounded by <see cref="ControllerManagerOptions.ShutdownGracePeriod"/>) and releases the lease.
/// </summary>
public sealed class ControllerManager : BackgroundService
{
    private readonly ControllerManagerOptions options;
    private readonly RuntimeMetrics metrics;
    private readonly ILoggerFactory loggerFactory;
    private readonly ILogger logger;
    private readonly List<IController> controllers = [];
    private volatile bool synced;
    private bool started;

    public ControllerManager(IKubernetes kubernetes, ControllerManagerOptions options, RuntimeMetrics metrics,
        ILoggerFactory loggerFactory)
        : this(kubernetes, options, metrics, loggerFactory,
            new InformerRegistry(kubernetes, options.Namespace, metrics, loggerFactory, options.Informers))
    {
    }

    /// <param name="informers">The informers the manager runs; reconcilers that read caches share it.</param>
    public ControllerManager(IKubernetes kubernetes, ControllerManagerOptions options, RuntimeMetrics metrics,
        ILoggerFactory loggerFactory, InformerRegistry informers)
    {
        this.options = options;
        this.metrics = metrics;
        this.loggerFactory = loggerFactory;
        logger = loggerFactory.CreateLogger<ControllerManager>();
        Kubernetes = kubernetes;
        Informers = informers;
        LeaderElection = new LeaseLeaderElection(kubernetes, options.LeaderElection, metrics,
            loggerFactory.CreateLogger<LeaseLeaderElection>());
    }

    public IKubernetes Kubernetes { get; }

    public InformerRegistry Informers { get; }

    public LeaseLeaderElection LeaderElection { get; }

    public bool HasSynced => synced;

    /// <summary>
    /// Can serve: the caches of the required kinds have synced. Leadership does not count (as in controller-runtime):
    /// a standby replica is ready, otherwise a Deployment of two replicas is never available.
    /// </summary>
    public bool IsReady => synced;

    /// <summary>The controllers run here: caches synced and this instance holds the lease.</summary>
    public bool IsLeading => synced && LeaderElection.IsLeader;

    /// <summary>
    /// Registers a controller for <typeparamref name="TEntity"/>; call before the manager starts.
    /// <code>manager.AddController(new WidgetReconciler(...), o => o.Owns&lt;V1ConfigMap&gt;().Workers(2));</code>
    /// </summary>
    public ControllerManager AddController<TEntity>(IReconciler<TEntity> reconciler,
        Action<ControllerOptions<TEntity>>? configure = null) where TEntity : class, IKubernetesObject<V1ObjectMeta>
    {
        if (started)
        {
            throw new InvalidOperationException("Controllers must be added before the manager starts.");
        }

        var controllerOptions = new ControllerOptions<TEntity>();
        configure?.Invoke(controllerOptions);
        controllers.Add(new Controller<TEntity>(reconciler, controllerOptions, Informers, metrics,
            loggerFactory.CreateLogger($"Cd4ml.Runtime.Controllers.{controllerOptions.Name}")));
        return this;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        started = true;
        using var informersStop = new CancellationTokenSource();
        var informers = Informers.All;
        var informerTasks = informers.Select(i => Task.Run(() => i.RunAsync(informersStop.Token), CancellationToken.None))
            .ToArray();
        try
        {
            // Optional informers may wait for their kind to be served indefinitely: they must not hold up the rest.
            var required = informers.Where(i => !i.IsOptional).ToList();
            await Task.WhenAll(required.Select(i => i.WaitForSyncAsync(stoppingToken))).ConfigureAwait(false);
            synced = true;
            logger.LogInformation("Caches of {Kinds} synced", string.Join(", ", required.Select(i => i.Kind)));

            await LeaderElection.RunAsync(RunControllersAsync, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await informersStop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(informerTasks).ConfigureAwait(false);
            logger.LogInformation("Controller manager stopped");
        }
    }

    private Task RunControllersAsync(CancellationToken term) =>
        Task.WhenAll(controllers.Select(c => c.RunAsync(term, options.ShutdownGracePeriod)));
}
