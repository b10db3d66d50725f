using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Metrics;
using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Runtime.LeaderElection;

/// <summary>
/// Runs work only while this instance holds a coordination.k8s.io/v1 Lease (KubernetesClient's
/// <see cref="LeaderElector"/> over a <see cref="LeaseLock"/>). On graceful stop the work finishes first, then the
/// lease is released — holder cleared — so a standby takes over within one retry period instead of a lease duration.
/// </summary>
public sealed class LeaseLeaderElection(IKubernetes kubernetes, LeaderElectionOptions options, RuntimeMetrics metrics,
    ILogger<LeaseLeaderElection> logger, TimeProvider? time = null)
{
    private readonly TimeProvider clock = time ?? TimeProvider.System;

    private volatile bool leading;

    public string Identity => options.Identity;

    public bool IsLeader => leading;

    /// <summary>
    /// Calls <paramref name="lead"/> each time leadership is acquired; its token is cancelled when leadership is lost
    /// or <paramref name="stop"/> fires. Returns after <paramref name="stop"/>, once the lease is released.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> lead, CancellationToken stop)
    {
        if (!options.Enabled)
        {
            SetLeading(true);
            try
            {
                await lead(stop).ConfigureAwait(false);
            }
            finally
            {
                SetLeading(false);
            }

            return;
        }

        SetLeading(false); // a standby reports cd4ml_leader 0 rather than nothing
        while (!stop.IsCancellationRequested)
        {
            using var electorStop = new CancellationTokenSource();
            using var elector = new LeaderElector(new LeaderElectionConfig(
                new LeaseLock(kubernetes, options.LeaseNamespace, options.LeaseName, options.Identity))
            {
                LeaseDuration = options.LeaseDuration,
                RenewDeadline = options.RenewDeadline,
                RetryPeriod = options.RetryPeriod,
            });
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            elector.OnStartedLeading += () => started.TrySetResult();
            elector.OnError += e => logger.LogDebug("Leader election attempt failed: {Error}", e.Message);
            elector.OnNewLeader += leader => logger.LogInformation("Leader of {Lease} is now {Leader}", options.LeaseName, leader);
            var election = Task.Run(() => elector.RunUntilLeadershipLostAsync(electorStop.Token), CancellationToken.None);
            var stopped = Task.Delay(Timeout.Infinite, stop);

            if (await Task.WhenAny(started.Task, election, stopped).ConfigureAwait(false) != started.Task)
            {
                await electorStop.CancelAsync().ConfigureAwait(false);
                await Quietly(election).ConfigureAwait(false);
                if (!stop.IsCancellationRequested)
                {
                    await Task.Delay(options.RetryPeriod, stop).ContinueWith(_ => { }, TaskScheduler.Default)
                        .ConfigureAwait(false);
                }

                continue;
            }

            SetLeading(true);
            logger.LogInformation("{Identity} became leader of {Lease}", options.Identity, options.LeaseName);
            using var term = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var work = Task.Run(() => lead(term.Token), CancellationToken.None);
            if (await Task.WhenAny(election, work).ConfigureAwait(false) == election)
            {
                logger.LogWarning("{Identity} lost leadership of {Lease}; stopping controllers", options.Identity,
                    options.LeaseName);
                await term.CancelAsync().ConfigureAwait(false);
                await Quietly(work).ConfigureAwait(false);
                SetLeading(false);
                continue;
            }

            // The work returned because stop fired: it has drained, now let go of the lease.
            await Quietly(work).ConfigureAwait(false);
            await electorStop.CancelAsync().ConfigureAwait(false);
            await Quietly(election).ConfigureAwait(false);
            SetLeading(false);
            await ReleaseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Clears holderIdentity if this instance still holds the lease (KubernetesClient's elector does not).</summary>
    public async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            var lease = await kubernetes.CoordinationV1.ReadNamespacedLeaseAsync(options.LeaseName, options.LeaseNamespace,
                cancellationToken: timeout.Token).ConfigureAwait(false);
            if (lease.Spec?.HolderIdentity != options.Identity)
            {
                return;
            }

            // An empty (not absent) holder tells candidates the lease is free; KubernetesClient's elector fails on a null one.
            lease.Spec.HolderIdentity = "";
            lease.Spec.LeaseDurationSeconds = 1;
            lease.Spec.RenewTime = clock.GetUtcNow().UtcDateTime;
            await kubernetes.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, options.LeaseName, options.LeaseNamespace,
                cancellationToken: timeout.Token).ConfigureAwait(false);
            logger.LogInformation("{Identity} released lease {Lease}", options.Identity, options.LeaseName);
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e) || ApiErrors.IsConflict(e))
        {
            // Someone else holds or removed it: nothing to release.
        }
        catch (Exception e)
        {
            logger.LogWarning("Could not release lease {Lease}: {Error}", options.LeaseName, e.Message);
        }
    }

    private void SetLeading(bool value)
    {
        leading = value;
        metrics.Leader.WithLabels(options.Identity).Set(value ? 1 : 0);
    }

    private async Task Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            logger.LogDebug("Leader election task ended: {Error}", e.Message);
        }
    }
}
