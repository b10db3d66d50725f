using System.Text;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Registry;
using Cd4ml.Operator.Tests.Training;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Entities;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Registry;

/// <summary>The ModelVersion controller in-process against the real control plane and s3rver.</summary>
[NonParallelizable]
public sealed class ModelVersionControllerTests
{
    private TrainingEnvironment env = null!;

    [OneTimeSetUp]
    public async Task Start() => env = await TrainingEnvironment.StartAsync("registry", withKubelet: false);

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (env is not null)
        {
            await env.DisposeAsync();
        }
    }

    private async Task<(string Uri, string Sha256)> UploadModelAsync(string name)
    {
        var content = Encoding.UTF8.GetBytes($"not really a model: {name}");
        var location = env.Bucket.Combine($"models/{name}/model.zip");
        await env.S3.Store.PutBytesAsync(location, content);
        return (location.ToString(), ContentDigest.Sha256Hex(content));
    }

    private ModelVersion Version(string name, string uri, string sha256) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = env.Namespace },
        Spec = new ModelVersionSpec
        {
            ModelName = "reg",
            Version = 1,
            Artifact = new ArtifactSpec { Uri = uri, Sha256 = sha256 },
            Task = MlTask.Regression,
            Metrics = new Dictionary<string, double> { ["rmse"] = 1.25 },
            Storage = new S3StorageSpec
            {
                SecretRef = new SecretReference { Name = TrainingEnvironment.SecretName },
                Endpoint = env.S3.Settings.ServiceUrl,
                ForcePathStyle = true,
            },
        },
    };

    private static Condition? Ready(ModelVersion v) => v.Status?.Find(Conditions.Ready);

    [Test]
    public async Task WrongSha256_SetsArtifactMismatch()
    {
        var (uri, _) = await UploadModelAsync("mismatch");
        await env.Versions.CreateAsync(Version("mismatch", uri, new string('0', 64)));

        var version = await env.WaitForVersionAsync("mismatch", v => Ready(v)?.Reason == ModelVersionReconciler.ArtifactMismatch, "ArtifactMismatch");

        Assert.That(version.Status!.Phase, Is.EqualTo(ModelVersionStatus.Invalid));
        Assert.That(version.Status.Validated, Is.False);
        Assert.That(Ready(version)!.Status, Is.EqualTo(Condition.False));
        Assert.That(Ready(version)!.Message, Does.Contain(new string('0', 64)));
        await Cd4ml.Testing.ControlPlane.WaitUntilAsync(async () => (await env.EventsAsync("mismatch")).Any(e =>
            e.Type == "Warning" && e.Reason == ModelVersionReconciler.ArtifactMismatch), TimeSpan.FromSeconds(10), "ArtifactMismatch event");
    }

    [Test]
    public async Task MissingArtifact_SetsArtifactNotFound()
    {
        await env.Versions.CreateAsync(Version("absent", env.Bucket.Combine("models/absent/model.zip").ToString(), new string('a', 64)));

        var version = await env.WaitForVersionAsync("absent", v => Ready(v)?.Reason == ModelVersionReconciler.ArtifactNotFound, "ArtifactNotFound");

        Assert.That(version.Status!.Phase, Is.EqualTo(ModelVersionStatus.Invalid));
    }

    [Test]
    public async Task MatchingArtifact_IsReady_ApprovalMayChange_OtherSpecChangesAreImmutableFieldChanged()
    {
        var (uri, sha256) = await UploadModelAsync("good");
        await env.Versions.CreateAsync(Version("good", uri, sha256));

        var version = await env.WaitForVersionAsync("good", v => v.Status?.Phase == ModelVersionStatus.Ready, "Ready");
        Assert.That(version.Status!.Validated, Is.True);
        Assert.That(version.Status.ArtifactSize, Is.EqualTo(Encoding.UTF8.GetByteCount("not really a model: good")));
        Assert.That(version.Status.Headline, Is.EqualTo("rmse=1.25"));
        Assert.That(version.Status.SpecDigest, Is.EqualTo(ModelVersionReconciler.SpecDigest(version.Spec)));

        version.Spec.Approved = true;
        version.Spec.Description = "approved by the team";
        version = await env.Versions.ReplaceAsync(version);
        await Task.Delay(TimeSpan.FromSeconds(2));
        version = (await env.Versions.GetAsync(env.Namespace, "good"))!;
        Assert.That(version.Status!.Phase, Is.EqualTo(ModelVersionStatus.Ready), "approved and description are mutable");

        version.Spec.Metrics!["rmse"] = 0.1;
        await env.Versions.ReplaceAsync(version);
        version = await env.WaitForVersionAsync("good", v => Ready(v)?.Reason == ModelVersionReconciler.ImmutableFieldChanged, "ImmutableFieldChanged");
        Assert.That(version.Status!.Phase, Is.EqualTo(ModelVersionStatus.Invalid));
        Assert.That(version.Spec.Metrics!["rmse"], Is.EqualTo(0.1), "the controller never writes spec");
    }

    [Test]
    public async Task S3Unreachable_SetsStorageUnavailable_AndValidatesOnceItIsBack()
    {
        using var s3 = new S3Proxy(env.S3.Port);
        s3.Stop();
        var (uri, sha256) = await UploadModelAsync("outage");
        var created = Version("outage", uri, sha256);
        created.Spec.Storage!.Endpoint = s3.Url;
        await env.Versions.CreateAsync(created);

        var waiting = await env.WaitForVersionAsync("outage", v => Ready(v)?.Reason == ModelVersionReconciler.StorageUnavailable,
            "StorageUnavailable");
        Assert.That(waiting.Status!.Phase, Is.EqualTo(ModelVersionStatus.Pending));
        Assert.That(Ready(waiting)!.Message, Does.Contain(uri).And.Contain("Connection refused"));
        await Cd4ml.Testing.ControlPlane.WaitUntilAsync(async () => (await env.EventsAsync("outage")).Any(e =>
            e.Type == "Warning" && e.Reason == ModelVersionReconciler.StorageUnavailable), TimeSpan.FromSeconds(10), "StorageUnavailable event");

        s3.Start();
        var version = await env.WaitForVersionAsync("outage", v => v.Status?.Phase == ModelVersionStatus.Ready, "Ready once S3 is back");
        Assert.That(version.Status!.Validated, Is.True);
        Assert.That(Ready(version)!.Reason, Is.EqualTo(ModelVersionReconciler.Validated));
    }

    [Test]
    public void SpecDigest_IgnoresApprovalAndDescription()
    {
        var a = Version("x", "s3://b/m/model.zip", new string('1', 64)).Spec;
        var b = Version("x", "s3://b/m/model.zip", new string('1', 64)).Spec;
        b.Approved = true;
        b.Description = "changed";
        var c = Version("x", "s3://b/m/other.zip", new string('1', 64)).Spec;

        Assert.That(ModelVersionReconciler.SpecDigest(b), Is.EqualTo(ModelVersionReconciler.SpecDigest(a)));
        Assert.That(ModelVersionReconciler.SpecDigest(c), Is.Not.EqualTo(ModelVersionReconciler.SpecDigest(a)));
    }

    [Test]
    public void ADeploymentMapsToTheVersionsItServes_StableAndCanary()
    {
        var deployment = new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = "api", NamespaceProperty = "ml" },
            Status = new ModelDeploymentStatus { StableVersion = "m-1", CanaryVersion = "m-2" },
        };
        Assert.That(ModelVersionReconciler.VersionsServedBy(deployment),
            Is.EquivalentTo(new[] { new NamespacedName("ml", "m-1"), new NamespacedName("ml", "m-2") }));

        deployment.Status = new ModelDeploymentStatus { StableVersion = "m-2", CanaryVersion = "m-2" };
        Assert.That(ModelVersionReconciler.VersionsServedBy(deployment), Is.EqualTo(new[] { new NamespacedName("ml", "m-2") }));
        Assert.That(ModelVersionReconciler.VersionsServedBy(new ModelDeployment { Metadata = deployment.Metadata }), Is.Empty);
    }
}
