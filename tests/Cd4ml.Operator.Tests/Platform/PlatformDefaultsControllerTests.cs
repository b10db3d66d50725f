using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Tests.Training;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Entities;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Platform;

/// <summary>
/// A team namespace whose ConfigMap cd4ml-defaults names the S3 endpoint and credentials Secret: TrainingRuns and
/// ModelVersions without storage settings use them, explicit fields still win. Real control plane, s3rver and kubelet.
/// </summary>
[NonParallelizable]
public sealed class PlatformDefaultsControllerTests
{
    private TrainingEnvironment env = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        env = await TrainingEnvironment.StartAsync("defaults", withKubelet: true);
        await CreateDefaultsAsync(env, new Dictionary<string, string>
        {
            [PlatformDefaults.S3EndpointKey] = env.S3.Settings.ServiceUrl!,
            [PlatformDefaults.S3ForcePathStyleKey] = "true",
            [PlatformDefaults.S3SecretNameKey] = TrainingEnvironment.SecretName,
        });
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (env is not null)
        {
            await env.DisposeAsync();
        }
    }

    internal static Task CreateDefaultsAsync(TrainingEnvironment env, Dictionary<string, string> data) =>
        env.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = PlatformDefaults.ConfigMapName },
            Data = data,
        }, env.Namespace);

    private static Condition? Ready(TrainingRun run) => run.Status?.Find(Conditions.Ready);

    [Test]
    public async Task RunWithoutStorage_TrainsWithTheNamespaceDefaults_AndShowsThemInStatusEffective()
    {
        var dataset = await env.UploadRetailAsync("short");
        await env.CreateAsync(env.RetailRun("short", dataset, s => s.Storage = null));

        var run = await env.WaitForRunAsync("short", r => r.Status?.Phase is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed,
            "run finished", seconds: 180);

        Assert.That(run.Status!.Phase, Is.EqualTo(TrainingRunStatus.Succeeded), Ready(run)?.Message);
        Assert.That(run.Spec.Storage, Is.Null, "the operator never writes spec");
        var effective = run.Status.Effective!.Storage!;
        Assert.That(effective.Endpoint, Is.EqualTo(env.S3.Settings.ServiceUrl));
        Assert.That(effective.SecretName, Is.EqualTo(TrainingEnvironment.SecretName));
        Assert.That(effective.ForcePathStyle, Is.True);
        Assert.That(run.Status.Effective.Image, Is.EqualTo(new OperatorOptions().Image));

        var version = await env.WaitForVersionAsync(run.Status.ModelVersion!, v => v.Status?.Phase == ModelVersionStatus.Ready,
            "the registered ModelVersion, also without storage, validated with the defaults");
        Assert.That(version.Spec.Storage, Is.Null);
        Assert.That(version.Status!.Effective!.Storage!.Endpoint, Is.EqualTo(env.S3.Settings.ServiceUrl));
    }

    [Test]
    public async Task TeamMinimalExample_IsAcceptedByTheApiServer()
    {
        var applied = await KubectlProcess.RunAsync(env.Plane, null, "apply", "--dry-run=server", "-n", env.Namespace,
            "-k", RepositoryRoot.Combine("examples", "team-minimal"));

        Assert.That(applied.ExitCode, Is.Zero, applied.All);
        Assert.That(applied.Output, Does.Contain("trainingrun.cd4ml.io/sales-forecast").And.Contain("deployment.cd4ml.io/sales-api"));
    }

    [Test]
    public async Task ExplicitSecretRef_WinsOverTheDefault()
    {
        var dataset = await env.UploadRetailAsync("own-secret");
        await env.CreateAsync(env.RetailRun("own-secret", dataset, s => s.Storage = new S3StorageSpec
        {
            SecretRef = new SecretReference { Name = "team-own-s3" },
        }));

        var run = await env.WaitForRunAsync("own-secret", r => Ready(r)?.Reason == TrainingRunReconciler.CredentialsMissing,
            "CredentialsMissing for the run's own Secret");

        Assert.That(Ready(run)!.Message, Does.Contain("Secret team-own-s3 does not exist").And.Not.Contain("platform defaults"));
    }
}

/// <summary>Defaults that name a Secret that is not there, or a malformed value: a condition says which and how to fix it.</summary>
[NonParallelizable]
public sealed class BrokenPlatformDefaultsTests
{
    [Test]
    public async Task DefaultSecretMissing_SetsCredentialsMissing_NamingTheKeyAndSpecStorageSecretRef()
    {
        await using var env = await TrainingEnvironment.StartAsync("defaults-nosecret", withKubelet: false);
        await PlatformDefaultsControllerTests.CreateDefaultsAsync(env, new Dictionary<string, string>
        {
            [PlatformDefaults.S3EndpointKey] = env.S3.Settings.ServiceUrl!,
            [PlatformDefaults.S3SecretNameKey] = "platform-s3",
        });
        var dataset = await env.UploadRetailAsync("nosecret");
        await env.CreateAsync(env.RetailRun("nosecret", dataset, s => s.Storage = null));

        var run = await env.WaitForRunAsync("nosecret",
            r => r.Status?.Find(Conditions.Ready)?.Reason == TrainingRunReconciler.CredentialsMissing, "CredentialsMissing");

        Assert.That(run.Status!.Find(Conditions.Ready)!.Message, Does.Contain("Secret platform-s3 does not exist")
            .And.Contain(PlatformDefaults.S3SecretNameKey).And.Contain(PlatformDefaults.ConfigMapName).And.Contain("spec.storage.secretRef"));
    }

    [Test]
    public async Task MalformedDefault_SetsInvalidPlatformDefaults_NamingTheKey_WithAWarningEvent_AndStartsNoJob()
    {
        await using var env = await TrainingEnvironment.StartAsync("defaults-bad", withKubelet: false);
        await PlatformDefaultsControllerTests.CreateDefaultsAsync(env, new Dictionary<string, string>
        {
            [PlatformDefaults.S3ForcePathStyleKey] = "yes",
        });
        var dataset = await env.UploadRetailAsync("bad");
        await env.CreateAsync(env.RetailRun("bad", dataset, s => s.Storage = null));

        var run = await env.WaitForRunAsync("bad",
            r => r.Status?.Find(Conditions.Ready)?.Reason == TrainingRunReconciler.InvalidPlatformDefaults, "InvalidPlatformDefaults");

        Assert.That(run.Status!.Find(Conditions.Ready)!.Message,
            Does.Contain(PlatformDefaults.ConfigMapName).And.Contain(PlatformDefaults.S3ForcePathStyleKey).And.Contain("not true or false"));
        Assert.That(run.Status!.JobName, Is.Null, "no attempt starts on a malformed default");
        await ControlPlane.WaitUntilAsync(async () => (await env.EventsAsync("bad")).Any(e => e.Reason == TrainingRunReconciler.InvalidPlatformDefaults),
            TimeSpan.FromSeconds(10), "InvalidPlatformDefaults event");
    }
}
