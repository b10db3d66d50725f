using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;

namespace Cd4ml.Operator.Training;

/// <summary>
/// The sha256 digest of a run's dataset without downloading it on every check: S3's ETag and size of the object, as
/// seen when it was last hashed, stand for that digest until either changes. The digest stays the source of truth
/// for lineage; ETag and size only decide whether it must be computed again.
/// </summary>
public static class DatasetDigest
{
    /// <summary>
    /// The digest recorded in <paramref name="known"/> when <paramref name="head"/> shows the same (non-empty) ETag and
    /// size it was computed for; null when the object must be hashed again.
    /// </summary>
    public static string? Reusable(ArtifactInfo head, DatasetObservation? known) =>
        known is { ETag: { Length: > 0 } etag, Size: { } size, Digest: { Length: > 0 } digest }
        && etag == head.ETag && size == head.Size
            ? digest
            : null;

    /// <summary>The dataset as <paramref name="head"/> shows it: <paramref name="known"/> again, or a fresh download and hash.</summary>
    public static async Task<DatasetObservation> ObserveAsync(ArtifactStore store, ArtifactInfo head, DatasetObservation? known,
        CancellationToken ct)
    {
        if (Reusable(head, known) is not null)
        {
            return known!;
        }

        // ETag and size come from the GET that was hashed, so they describe exactly the content behind the digest.
        var (sha256, info) = await store.HashAsync(head.Location, ct);
        return new DatasetObservation { Digest = ContentDigest.Sha256Prefix + sha256, ETag = info.ETag, Size = info.Size };
    }
}
