using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Training;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

public sealed class DatasetDigestTests
{
    private static readonly S3Location Dataset = S3Location.Parse("s3://data/sales.csv");
    private static readonly DatasetObservation Known = new() { Digest = "sha256:" + new string('a', 64), ETag = "\"e1\"", Size = 100 };

    private static ArtifactInfo Head(string? etag, long size) => new(Dataset, size, etag, DateTime.UtcNow);

    [Test]
    public void SameETagAndSize_ReusesTheRecordedDigest() =>
        Assert.That(DatasetDigest.Reusable(Head("\"e1\"", 100), Known), Is.EqualTo(Known.Digest));

    [TestCase("\"e2\"", 100, TestName = "OtherETag_MustBeHashedAgain")]
    [TestCase("\"e1\"", 101, TestName = "OtherSize_MustBeHashedAgain")]
    [TestCase(null, 100, TestName = "NoETag_MustBeHashedAgain")]
    public void Changed_MustBeHashedAgain(string? etag, long size) =>
        Assert.That(DatasetDigest.Reusable(Head(etag, size), Known), Is.Null);

    [Test]
    public void NothingRecorded_OrARecordWithoutETagOrDigest_MustBeHashed()
    {
        Assert.That(DatasetDigest.Reusable(Head("\"e1\"", 100), null), Is.Null);
        Assert.That(DatasetDigest.Reusable(Head("", 100), new DatasetObservation { Digest = Known.Digest, ETag = "", Size = 100 }), Is.Null);
        Assert.That(DatasetDigest.Reusable(Head("\"e1\"", 100), new DatasetObservation { ETag = "\"e1\"", Size = 100 }), Is.Null);
    }
}
