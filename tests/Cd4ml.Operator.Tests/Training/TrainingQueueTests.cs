using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Entities;
using k8s;
using k8s.Autorest;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

/// <summary>Tenancy of training on the real control plane: the per-namespace limit of attempts and namespace-local references.</summary>
[NonParallelizable]
public sealed class TrainingQueueTests
{
    private TrainingEnvironment env = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        env = await TrainingEnvironment.StartAsync("queue", withKubelet: true);
        await env.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = PlatformDefaults.ConfigMapName },
            Data = new Dictionary<string, string> { [PlatformDefaults.TrainingMaxConcurrentKey] = "1" },
        }, env.Namespace);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (env is not null)
        {
            await env.DisposeAsync();
        }
    }

    [Test]
    public async Task WithLimitOne_LaterRunsAreQueuedWithTheReason_AndStartOldestFirst_EachAfterThePreviousJobFinished()
    {
        var dataset = await env.UploadRetailAsync("queue");
        await env.CreateAsync(env.RetailRun("first", dataset));
        await env.WaitForRunAsync("first", r => r.Status?.Attempt == 1, "first run started its attempt");
        await env.CreateAsync(env.RetailRun("second", dataset));

        var queued = await env.WaitForRunAsync("second", r => r.Status?.Phase == TrainingRunStatus.Queued, "second run queued");

        var ready = queued.Status!.Find(Conditions.Ready)!;
        Assert.That((ready.Status, ready.Reason), Is.EqualTo(("False", TrainingRunReconciler.Queued)));
        Assert.That(ready.Message, Does.StartWith($"1 of 1 training attempts running in namespace {env.Namespace}"));
        Assert.That(ready.Message, Does.Contain("cd4ml-defaults key training.maxConcurrent"));
        Assert.That(queued.Status!.Attempt, Is.Null, "a queued run has no attempt and no Job");
        await GitOps.StatusGolden.WriteAsync("trainingrun-queued", queued);
        // A third run arriving while the second waits queues behind it: free slots go oldest first.
        await env.CreateAsync(env.RetailRun("third", dataset));
        await env.WaitForRunAsync("third", r => r.Status?.Phase == TrainingRunStatus.Queued, "third run queued");
        var first = await env.WaitForRunAsync("first", r => r.Status?.Phase == TrainingRunStatus.Succeeded, "first run succeeded", seconds: 180);
        var second = await env.WaitForRunAsync("second", r => r.Status?.Phase == TrainingRunStatus.Succeeded, "second run succeeded", seconds: 180);
        var third = await env.WaitForRunAsync("third", r => r.Status?.Phase == TrainingRunStatus.Succeeded, "third run succeeded", seconds: 180);
        var firstJob = await env.Client.BatchV1.ReadNamespacedJobAsync(first.Status!.JobName, env.Namespace);
        var secondJob = await env.Client.BatchV1.ReadNamespacedJobAsync(second.Status!.JobName, env.Namespace);
        Assert.That(second.Status!.StartTime, Is.GreaterThanOrEqualTo(firstJob.Status.CompletionTime!.Value),
            "the second attempt started only once the first Job had finished");
        Assert.That(third.Status!.StartTime, Is.GreaterThanOrEqualTo(secondJob.Status.CompletionTime!.Value),
            "the third run, queued after the second, started only once the second Job had finished");
        var queuedEvents = (await env.EventsAsync("second")).Where(e => e.Reason == TrainingRunReconciler.Queued).ToList();
        Assert.That(queuedEvents.Select(e => (e.Type, e.Count ?? 1)), Is.EqualTo(new[] { ("Normal", 1) }), "one Normal event, not one per recheck");
    }

    [Test]
    public void BaselineNamingAnotherNamespace_IsRefusedByTheSchema_NamingTheField()
    {
        var run = env.RetailRun("cross", env.Bucket.Combine("datasets/any.csv").ToString(),
            s => s.Baseline = new BaselineGate { Deployment = "team-b/prod", Metric = "rmse" });

        var refused = Assert.ThrowsAsync<HttpOperationException>(() => env.CreateAsync(run));

        Assert.That(refused!.Response.Content, Does.Contain("spec.baseline.deployment"));
    }
}
