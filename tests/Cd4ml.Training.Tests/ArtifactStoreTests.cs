using Cd4ml.Artifacts;
using Cd4ml.Testing;

namespace Cd4ml.Training.Tests;

public sealed class ArtifactStoreTests
{
    private S3Server server = null!;
    private S3Location bucket = null!;

    [OneTimeSetUp]
    public async Task StartS3()
    {
        server = await S3Server.SharedAsync();
        bucket = await server.CreateUniqueBucketAsync("store");
    }

    [Test]
    public async Task PutAndGet_RoundTripsBytesExactly_ForThreeMegabytes()
    {
        var content = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(content);
        var location = bucket.Combine("blobs/random.bin");

        await server.Store.PutBytesAsync(location, content);
        var read = await server.Store.GetBytesAsync(location);

        Assert.That(read, Is.EqualTo(content));
        Assert.That(await server.Store.ComputeSha256Async(location), Is.EqualTo(ContentDigest.Sha256Hex(content)));
        Assert.That((await server.Store.HeadAsync(location))!.Size, Is.EqualTo(content.Length));
    }

    [Test]
    public async Task PutStream_RoundTripsBytesExactly_WhenTheStreamCannotSeek()
    {
        var content = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("a,b,c\n1,2,3\n", 5000)));
        var location = bucket.Combine("blobs/stream.csv");

        await server.Store.PutStreamAsync(location, new NonSeekableStream(content));

        Assert.That(await server.Store.GetBytesAsync(location), Is.EqualTo(content));
    }

    [Test]
    public void Get_ThrowsArtifactNotFound_ForMissingKeyAndMissingBucket()
    {
        var missingKey = bucket.Combine("nothing/here.csv");
        var missingBucket = S3Location.Parse("s3://no-such-bucket-cd4ml/x.csv");

        var keyError = Assert.ThrowsAsync<ArtifactNotFoundException>(() => server.Store.GetBytesAsync(missingKey));
        Assert.That(keyError!.Location, Is.EqualTo(missingKey));
        Assert.ThrowsAsync<ArtifactNotFoundException>(() => server.Store.GetBytesAsync(missingBucket));
    }

    [Test]
    public async Task HeadAndExists_ReportMissingObjectsWithoutThrowing()
    {
        var location = bucket.Combine("head/present.txt");
        await server.Store.PutBytesAsync(location, [1, 2, 3]);

        Assert.That(await server.Store.ExistsAsync(location), Is.True);
        Assert.That(await server.Store.ExistsAsync(bucket.Combine("head/absent.txt")), Is.False);
        Assert.That(await server.Store.HeadAsync(bucket.Combine("head/absent.txt")), Is.Null);
    }

    [Test]
    public async Task List_ReturnsOnlyObjectsUnderThePrefix()
    {
        await server.Store.PutBytesAsync(bucket.Combine("list/a/1.txt"), [1]);
        await server.Store.PutBytesAsync(bucket.Combine("list/a/2.txt"), [2, 2]);
        await server.Store.PutBytesAsync(bucket.Combine("list/b/3.txt"), [3]);

        var listed = await server.Store.ListAsync(bucket.Combine("list/a/"));

        Assert.That(listed.Select(i => i.Location.ToString()),
            Is.EqualTo(new[] { $"{bucket}list/a/1.txt", $"{bucket}list/a/2.txt" }));
        Assert.That(listed.Select(i => i.Size), Is.EqualTo(new long[] { 1, 2 }));
    }

    [Test]
    public void Get_ThrowsTransientStoreError_WhenTheServerIsUnreachable()
    {
        var settings = server.Settings with { ServiceUrl = "http://127.0.0.1:1" };
        using var client = settings.CreateClient();
        var error = Assert.ThrowsAsync(Is.InstanceOf<ArtifactStoreException>(),
            () => new ArtifactStore(client).GetBytesAsync(bucket.Combine("x")));
        Assert.That(error, Is.Not.InstanceOf<ArtifactNotFoundException>());
        Assert.That(((ArtifactStoreException)error!).IsTransient, Is.True);
    }

    private sealed class NonSeekableStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }
}
