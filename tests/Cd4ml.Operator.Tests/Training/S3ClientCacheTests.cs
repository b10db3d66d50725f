using System.Reflection;
using Amazon.S3;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Training;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

public sealed class S3ClientCacheTests
{
    private static readonly S3Settings Settings = new() { ServiceUrl = "http://127.0.0.1:9", ForcePathStyle = true };
    private static readonly S3ClientSlot Slot = new(Settings.ServiceUrl, Settings.Region, true, "ml/s3-credentials");

    private readonly List<FakeS3Client> created = [];

    private S3ClientCache NewCache() => new(settings =>
    {
        var client = FakeS3Client.Create(settings);
        created.Add(FakeS3Client.Of(client));
        return client;
    });

    [SetUp]
    public void Clear() => created.Clear();

    [Test]
    public void SameSlotAndCredentialsVersion_ShareOneClient()
    {
        using var cache = NewCache();
        using var a = cache.Lease(Slot, "uid-1/7", Settings);
        using var b = cache.Lease(Slot, "uid-1/7", Settings);

        Assert.That(b.Store.Client, Is.SameAs(a.Store.Client));
        Assert.That(created, Has.Count.EqualTo(1));
    }

    [Test]
    public void OtherEndpointOrCredentialsSource_GetsItsOwnClient()
    {
        using var cache = NewCache();
        using var a = cache.Lease(Slot, "uid-1/7", Settings);
        using var b = cache.Lease(Slot with { ServiceUrl = "http://127.0.0.1:10" }, "uid-1/7", Settings);
        using var c = cache.Lease(Slot with { Credentials = null }, "", Settings);

        Assert.That(new[] { a.Store.Client, b.Store.Client, c.Store.Client }, Is.Unique);
        Assert.That(created.Any(f => f.Disposed), Is.False, "other slots leave each other alone");
    }

    [Test]
    public void NewCredentialsVersion_ReplacesTheClient_AndDisposesTheOldOneWhenItsLastLeaseIsReturned()
    {
        using var cache = NewCache();
        var inUse = cache.Lease(Slot, "uid-1/7", Settings);

        using (var rotated = cache.Lease(Slot, "uid-1/8", Settings))
        {
            Assert.That(rotated.Store.Client, Is.Not.SameAs(inUse.Store.Client));
        }

        Assert.That(created[0].Disposed, Is.False, "a reconcile still uses the old client");
        inUse.Dispose();
        inUse.Dispose();
        Assert.That(created[0].Disposed, Is.True);
        Assert.That(created[1].Disposed, Is.False, "the current client stays cached while idle");

        using var again = cache.Lease(Slot, "uid-1/8", Settings);
        Assert.That(created, Has.Count.EqualTo(2), "the rotated client is reused");
    }

    [Test]
    public void Dispose_DisposesIdleClientsAtOnce_AndLeasedOnesWhenReturned()
    {
        var cache = NewCache();
        cache.Lease(Slot, "uid-1/7", Settings).Dispose();
        var leased = cache.Lease(Slot with { Credentials = null }, "", Settings);

        cache.Dispose();
        Assert.That(created.Select(c => c.Disposed), Is.EqualTo(new[] { true, false }));
        leased.Dispose();
        Assert.That(created[1].Disposed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => cache.Lease(Slot, "uid-1/7", Settings));
    }

    [Test]
    public async Task StorageAccess_ReusesTheClientUntilTheSecretChanges()
    {
        var plane = await ControlPlane.SharedAsync();
        using var kubernetes = plane.CreateClient();
        var ns = await plane.CreateNamespaceAsync("s3cache");
        async Task CreateSecretAsync(string key) => await kubernetes.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "creds" },
            StringData = new Dictionary<string, string>
            {
                [S3Settings.AccessKeyIdVariable] = key,
                [S3Settings.SecretAccessKeyVariable] = "secret",
            },
        }, ns);
        await CreateSecretAsync("key-1");
        using var cache = NewCache();
        var options = new OperatorOptions();
        var access = new StorageAccess(kubernetes, options, cache, new PlatformDefaultsSource(kubernetes, options));
        var spec = new S3StorageSpec { SecretRef = new SecretReference { Name = "creds" }, Endpoint = "http://127.0.0.1:9" };
        async Task<IAmazonS3> ClientAsync()
        {
            using var resolved = await access.ResolveAsync(ns, spec, CancellationToken.None);
            return resolved.Store!.Client;
        }

        var first = await ClientAsync();
        Assert.That(await ClientAsync(), Is.SameAs(first));
        Assert.That(created.Single().Settings.AccessKeyId, Is.EqualTo("key-1"));

        await kubernetes.CoreV1.PatchNamespacedSecretAsync(new V1Patch(new { stringData = new Dictionary<string, string>
        {
            [S3Settings.AccessKeyIdVariable] = "key-2",
        } }, V1Patch.PatchType.MergePatch), "creds", ns);
        var rotated = await ClientAsync();
        Assert.That(rotated, Is.Not.SameAs(first));
        Assert.That(created[1].Settings.AccessKeyId, Is.EqualTo("key-2"));
        Assert.That(created[0].Disposed, Is.True, "the client with the old key is disposed");

        await kubernetes.CoreV1.DeleteNamespacedSecretAsync("creds", ns);
        await CreateSecretAsync("key-2");
        Assert.That(await ClientAsync(), Is.Not.SameAs(rotated), "a re-created Secret (new uid) gets a new client");
        Assert.That(created[1].Disposed, Is.True);
    }

    /// <summary>Stands in for an S3 client: remembers its settings and whether it was disposed; any call fails.</summary>
    public class FakeS3Client : DispatchProxy
    {
        public S3Settings Settings { get; private set; } = new();

        public bool Disposed { get; private set; }

        public static IAmazonS3 Create(S3Settings settings)
        {
            var client = DispatchProxy.Create<IAmazonS3, FakeS3Client>();
            Of(client).Settings = settings;
            return client;
        }

        public static FakeS3Client Of(IAmazonS3 client) => (FakeS3Client)(object)client;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name == nameof(IDisposable.Dispose))
            {
                Disposed = true;
                return null;
            }

            throw new NotSupportedException($"{targetMethod?.Name} is not faked");
        }
    }
}
