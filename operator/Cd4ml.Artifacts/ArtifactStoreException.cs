namespace Cd4ml.Artifacts;

/// <summary>An S3 operation failed. <see cref="IsTransient"/> tells whether retrying later may help.</summary>
public class ArtifactStoreException(string message, bool isTransient, Exception? innerException = null)
    : Exception(message, innerException)
{
    public bool IsTransient { get; } = isTransient;
}

/// <summary>The object (or its bucket) does not exist: an expected outcome callers turn into conditions such as DatasetNotFound.</summary>
public sealed class ArtifactNotFoundException(S3Location location, Exception? innerException = null)
    : ArtifactStoreException($"{location} does not exist.", isTransient: false, innerException)
{
    public S3Location Location { get; } = location;
}
