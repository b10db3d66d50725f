using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace Cd4ml.Artifacts;

/// <summary>The AWS SDK side of <see cref="S3Settings"/>, kept out of the training contract so it needs no AWS SDK.</summary>
public static class S3ClientFactory
{
    public static IAmazonS3 CreateClient(this S3Settings settings)
    {
        var config = new AmazonS3Config
        {
            RegionEndpoint = RegionEndpoint.GetBySystemName(settings.Region),
            ForcePathStyle = settings.ForcePathStyle,
        };
        if (settings.ServiceUrl is not null)
        {
            config.ServiceURL = settings.ServiceUrl;
            config.AuthenticationRegion = settings.Region;
            // Many S3-compatible stores do not understand the SDK's newer default checksum headers/trailers.
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }

        return settings.AccessKeyId is not null && settings.SecretAccessKey is not null
            ? new AmazonS3Client(new BasicAWSCredentials(settings.AccessKeyId, settings.SecretAccessKey), config)
            : new AmazonS3Client(config);
    }
}
