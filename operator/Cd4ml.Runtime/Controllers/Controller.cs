using System.Diagnostics;
using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Metrics;
using Cd4ml.Runtime.Queues;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Runtime.Controllers;

/// <summary>
/// Turns informer events into keys on a work queue and runs N workers that call the reconciler, applying its
/// <see cref="ReconcileResult"/>: forget, requeue after a delay, retry with backoff, or stop.
/// </summary>
public sealed class Controller<TEntity> : IController where TEntity : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly IReconciler<TEntity> reconciler;
    private readonly ControllerOptions<TEntity> options;
    private readonly ResourceInformer<TEntity> primary;
    private readonly RuntimeMetrics metrics;
    private readonly ILogger logger;
    private readonly string kind = ResourceType.Of<TEntity>().Kind;
    private volatile WorkQueue<NamespacedName>? queue;

    public Controller(IReconciler<TEntity> reconciler, ControllerOptions<TEntity> options, InformerRegistry informers,
        RuntimeMetrics metrics, ILogger logger)
    {
        this.reconciler = reconciler;
        this.options = options;
        this.metrics = metrics;
        this.logger = logger;
        primary = informers.Get<TEntity>();
        primary.AddHandler(OnPrimaryChanged);
        foreach (var source in options.Sources)
        {
            source(informers, Enqueue);
        }
    }

    public string Name => options.Name;

    public async Task RunAsync(CancellationToken stop, TimeSpan shutdownGrace)
    {
        using var work = new WorkQueue<NamespacedName>(Name, metrics: metrics);
        using var hardStop = new CancellationTokenSource();
        queue = work;

        // Events seen before this instance led were not queued: start from the whole cache.
        EnqueueAll();
        using var resync = options.ResyncPeriod is { } period ? new Timer(_ => EnqueueAll(), null, period, period) : null;

        var workers = Enumerable.Range(0, options.WorkerCount)
            .Select(_ => Task.Run(() => WorkAsync(work, hardStop.Token), CancellationToken.None))
            .ToArray();
        logger.LogInformation("Controller {Controller} started with {Workers} workers", Name, options.WorkerCount);

        try
        {
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        queue = null;
        work.ShutDown();
        hardStop.CancelAfter(shutdownGrace);
        await Task.WhenAll(workers).ConfigureAwait(false);
        logger.LogInformation("Controller {Controller} stopped", Name);
    }

    private void OnPrimaryChanged(InformerEvent<TEntity> change)
    {
        if (change.Type == WatchEventType.Modified && !options.UpdateFilter(change.Old, change.Object))
        {
            return;
        }

        Enqueue(NamespacedName.Of(change.Object));
    }

    private void Enqueue(NamespacedName key) => queue?.Add(key);

    private void EnqueueAll()
    {
        foreach (var key in primary.Keys)
        {
            Enqueue(key);
        }
    }

    private async Task WorkAsync(WorkQueue<NamespacedName> work, CancellationToken ct)
    {
        while (true)
        {
            var (key, ok) = await work.GetAsync().ConfigureAwait(false);
            if (!ok)
            {
                return;
            }

            try
            {
                await ProcessAsync(work, key, ct).ConfigureAwait(false);
            }
            finally
            {
                work.Done(key);
            }
        }
    }

    private async Task ProcessAsync(WorkQueue<NamespacedName> work, NamespacedName key, CancellationToken ct)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object?>
        {
            ["controller"] = Name, ["kind"] = kind, ["namespace"] = key.Namespace, ["name"] = key.Name,
        });

        var started = Stopwatch.GetTimestamp();
        ReconcileResult result;
        Exception? thrown = null;
        try
        {
            result = await reconciler.ReconcileAsync(new ReconcileRequest<TEntity>(key, primary.Get(key)), ct)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutdown cut the reconcile short; the next leader starts from the whole cache.
            logger.LogDebug("Reconcile of {Kind} {Key} cancelled by shutdown", kind, key);
            return;
        }
        catch (Exception e)
        {
            thrown = e;
            result = ReconcileResult.Retry($"{e.GetType().Name}: {e.Message}", e);
        }

        var label = thrown is not null ? "error" : result.Outcome switch
        {
            ReconcileOutcome.Done => "done",
            ReconcileOutcome.RequeueAfter => "requeue",
            ReconcileOutcome.Retry => "retry",
            _ => "terminal",
        };
        metrics.ReconcileDuration.WithLabels(Name).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        metrics.ReconcileTotal.WithLabels(Name, label).Inc();

        switch (result.Outcome)
        {
            case ReconcileOutcome.Done:
                work.Forget(key);
                break;
            case ReconcileOutcome.RequeueAfter:
                work.Forget(key);
                work.AddAfter(key, result.Delay ?? TimeSpan.Zero);
                break;
            case ReconcileOutcome.Retry:
                metrics.ReconcileErrors.WithLabels(Name).Inc();
                var attempt = work.NumRequeues(key) + 1;
                LogRetry(key, result, thrown, attempt, work.AddRateLimited(key));
                break;
            case ReconcileOutcome.Terminal:
                work.Forget(key);
                logger.LogError("Reconcile of {Kind} {Key} failed terminally, not retrying until it changes: {Message}",
                    kind, key, result.Message);
                break;
        }
    }

    /// <summary>
    /// One line per failed attempt, with the reason and when the retry comes. A stack trace is only worth it for a
    /// surprise: an exception that is neither a <see cref="ReconcileResult.Retry"/> the reconciler chose nor a transient
    /// failure (<see cref="ApiErrors.IsTransient"/>) gets one at Error on the first failure of its streak. Every other
    /// stack trace is logged at Debug.
    /// </summary>
    private void LogRetry(NamespacedName key, ReconcileResult result, Exception? thrown, int attempt, TimeSpan delay)
    {
        if (thrown is not null && !ApiErrors.IsTransient(thrown) && attempt == 1)
        {
            logger.LogError(thrown, "Reconcile of {Kind} {Key} failed unexpectedly; retry {Attempt} in {Delay:F2}s",
                kind, key, attempt, delay.TotalSeconds);
            return;
        }

        logger.LogWarning("Reconcile of {Kind} {Key} failed: {Message}; retry {Attempt} in {Delay:F2}s",
            kind, key, result.Message, attempt, delay.TotalSeconds);
        if (result.Exception is { } exception && logger.IsEnabled(LogLevel.Debug))
        {
            logger.LogDebug(exception, "Reconcile of {Kind} {Key} failed", kind, key);
        }
    }
}
