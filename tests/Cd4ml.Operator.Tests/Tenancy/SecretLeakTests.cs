using System.Collections.Concurrent;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.LocalCluster;
using Cd4ml.Operator.Tests.Training;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Entities;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Tenancy;

/// <summary>
/// Whoever can read a namespace (statuses, events) or the operator's logs must never learn the S3 credentials of a
/// team: runs that succeed and runs that fail on the credentials or the endpoint, with every operator log line
/// captured at every level (exceptions included).
/// </summary>
[NonParallelizable]
public sealed class SecretLeakTests
{
    private const string CanaryAccessKey = "AKIACD4MLLEAKCANARY7F3E";
    private const string CanarySecretKey = "cd4ml-leak-canary/SECRET+9b1d0c";
    private const string CanarySecretName = "canary-credentials";

    private readonly ConcurrentQueue<string> logs = new();
    private TrainingEnvironment env = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        env = await TrainingEnvironment.StartAsync("leak", withKubelet: true, services =>
        {
            services.AddSingleton<ILoggerProvider>(new CapturingLoggerProvider(logs));
            services.Configure<LoggerFilterOptions>(o =>
                o.Rules.Add(new LoggerFilterRule(typeof(CapturingLoggerProvider).FullName, null, LogLevel.Trace, null)));
        });
        await env.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = CanarySecretName },
            StringData = new Dictionary<string, string>
            {
                [S3Settings.AccessKeyIdVariable] = CanaryAccessKey,
                [S3Settings.SecretAccessKeyVariable] = CanarySecretKey,
            },
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
    public async Task SuccessfulRun_ShowsTheWorkingCredentialsNowhere()
    {
        // The test S3 (s3rver) accepts only its built-in key pair, so that pair is the secret a successful run uses.
        var dataset = await env.UploadRetailAsync("ok");
        await env.CreateAsync(env.RetailRun("ok", dataset));

        var run = await env.WaitForRunAsync("ok", r => r.Status?.Phase is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed,
            "run finished", seconds: 240);

        Assert.That(run.Status!.Phase, Is.EqualTo(TrainingRunStatus.Succeeded), run.Status.Find(Conditions.Ready)?.Message);
        await AssertNowhereAsync(S3Server.AccessKey, S3Server.SecretKey);
    }

    [Test]
    public async Task RunsFailingOnCredentialsOrEndpoint_ShowTheCredentialsNowhere()
    {
        var dataset = await env.UploadRetailAsync("refused");
        await env.CreateAsync(env.RetailRun("refused", dataset,
            s => s.Storage!.SecretRef = new SecretReference { Name = CanarySecretName }));
        await env.CreateAsync(env.RetailRun("unreachable", dataset, s =>
        {
            s.Storage!.SecretRef = new SecretReference { Name = CanarySecretName };
            s.Storage.Endpoint = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        }));

        var refused = await env.WaitForRunAsync("refused",
            r => r.Status?.Find(Conditions.Ready)?.Reason == TrainingRunReconciler.StorageError, "S3 refuses the credentials");
        var unreachable = await env.WaitForRunAsync("unreachable",
            r => r.Status?.Find(Conditions.Ready)?.Reason == TrainingRunReconciler.StorageUnavailable, "S3 endpoint unreachable");

        Assert.That(refused.Status!.Find(Conditions.Ready)!.Message, Is.Not.Empty);
        Assert.That(unreachable.Status!.Find(Conditions.Ready)!.Message, Is.Not.Empty);
        await AssertNowhereAsync(CanaryAccessKey, CanarySecretKey);
    }

    private async Task AssertNowhereAsync(params string[] secrets)
    {
        var ns = env.Namespace;
        var places = new Dictionary<string, string>
        {
            ["TrainingRuns"] = KubernetesJson.Serialize((await env.Runs.ListAsync(ns, 500, null, CancellationToken.None)).Items),
            ["ModelVersions"] = KubernetesJson.Serialize((await env.Versions.ListAsync(ns, 500, null, CancellationToken.None)).Items),
            ["Events"] = KubernetesJson.Serialize((await env.Client.CoreV1.ListNamespacedEventAsync(ns)).Items),
            ["Jobs"] = KubernetesJson.Serialize((await env.Client.BatchV1.ListNamespacedJobAsync(ns)).Items),
            ["operator logs"] = string.Join("\n", logs),
        };
        Assert.That(logs, Is.Not.Empty, "the log capture works");
        foreach (var (place, text) in places)
        {
            foreach (var secret in secrets)
            {
                Assert.That(text, Does.Not.Contain(secret), $"{place} show a credential");
            }
        }
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            lines.Enqueue($"scope: {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");

        public void Dispose()
        {
        }
    }
}
