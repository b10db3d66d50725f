using Cd4ml.Artifacts;

namespace Cd4ml.Training.Tests;

public sealed class S3LocationTests
{
    [TestCase("s3://bucket/key.csv", "bucket", "key.csv")]
    [TestCase("s3://my.bucket-1/a/b/c.zip", "my.bucket-1", "a/b/c.zip")]
    [TestCase("s3://bucket/runs/", "bucket", "runs/")]
    [TestCase("s3://bucket", "bucket", "")]
    [TestCase("S3://bucket/x", "bucket", "x")]
    public void Parse_SplitsBucketAndKey(string uri, string bucket, string key)
    {
        var location = S3Location.Parse(uri);

        Assert.That((location.Bucket, location.Key), Is.EqualTo((bucket, key)));
    }

    [TestCase("")]
    [TestCase("http://bucket/key")]
    [TestCase("s3://")]
    [TestCase("s3://Bucket/key")]
    [TestCase("s3://ab/key")]
    [TestCase("s3://bucket//key")]
    [TestCase("bucket/key")]
    public void Parse_RejectsInvalidUris_NamingTheValue(string uri)
    {
        var error = Assert.Throws<FormatException>(() => S3Location.Parse(uri));

        Assert.That(error!.Message, uri.Length == 0 ? Does.Contain("empty") : Does.Contain(uri));
    }

    [TestCase("s3://b1b/runs/", "model.zip", "s3://b1b/runs/model.zip")]
    [TestCase("s3://b1b/runs", "model.zip", "s3://b1b/runs/model.zip")]
    [TestCase("s3://b1b", "a/model.zip", "s3://b1b/a/model.zip")]
    [TestCase("s3://b1b/runs/", "/x", "s3://b1b/runs/x")]
    public void Combine_JoinsWithExactlyOneSlash(string prefix, string relative, string expected) =>
        Assert.That(S3Location.Parse(prefix).Combine(relative).ToString(), Is.EqualTo(expected));

    [Test]
    public void ToString_FormatsWhatParseReads() =>
        Assert.That(S3Location.Parse("s3://bucket/a/b.csv").ToString(), Is.EqualTo("s3://bucket/a/b.csv"));

    [Test]
    public void S3Settings_RoundTripThroughEnvironment()
    {
        var settings = new S3Settings
        {
            ServiceUrl = "http://127.0.0.1:9000", Region = "eu-west-1", ForcePathStyle = true, AccessKeyId = "k", SecretAccessKey = "s",
        };

        var environment = settings.ToEnvironment().ToDictionary(e => e.Key, e => (string?)e.Value);

        Assert.That(S3Settings.FromEnvironment(environment), Is.EqualTo(settings));
        Assert.That(environment[S3Settings.EndpointVariable], Is.EqualTo("http://127.0.0.1:9000"));
    }

    [Test]
    public void S3Settings_RejectAnAccessKeyWithoutItsSecret()
    {
        var error = Assert.Throws<FormatException>(() => S3Settings.FromEnvironment(new Dictionary<string, string?> { [S3Settings.AccessKeyIdVariable] = "k" }));

        Assert.That(error!.Message, Does.Contain(S3Settings.SecretAccessKeyVariable));
    }

    [Test]
    public void S3Settings_DefaultToAwsInUsEast1_WhenNothingIsSet()
    {
        var settings = S3Settings.FromEnvironment(new Dictionary<string, string?>());

        Assert.That((settings.ServiceUrl, settings.Region, settings.ForcePathStyle, settings.AccessKeyId), Is.EqualTo(((string?)null, "us-east-1", false, (string?)null)));
    }
}
