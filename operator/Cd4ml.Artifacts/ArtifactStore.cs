using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Cd4ml.Artifacts;

/// <summary>What S3 says about one object.</summary>
public sealed record ArtifactInfo(S3Location Location, long Size, string? ETag, DateTime? LastModified);

/// <summary>
/// Reads and writes artifacts in S3 (AWS, MinIO, s3rver). Missing objects raise <see cref="ArtifactNotFoundException"/>;
/// every other failure raises <see cref="ArtifactStoreException"/> telling whether it is transient.
/// </summary>
public sealed class ArtifactStore(IAmazonS3 client)
{
    public IAmazonS3 Client { get; } = client;

    public async Task<byte[]> GetBytesAsync(S3Location location, CancellationToken cancellationToken = default)
    {
        await using var stream = await OpenReadAsync(location, cancellationToken);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>Opens the object for reading; dispose the stream to release the connection.</summary>
    public async Task<Stream> OpenReadAsync(S3Location location, CancellationToken cancellationToken = default)
    {
        var response = await Call(location, () => Client.GetObjectAsync(location.Bucket, location.Key, cancellationToken));
        return new ResponseStream(response);
    }

    public Task PutBytesAsync(S3Location location, byte[] content, string? contentType = null,
        CancellationToken cancellationToken = default) =>
        PutStreamAsync(location, new MemoryStream(content, writable: false), contentType, cancellationToken);

    /// <summary>Uploads a stream. A non-seekable stream is buffered first, because S3 needs the length up front.</summary>
    public async Task PutStreamAsync(S3Location location, Stream content, string? contentType = null,
        CancellationToken cancellationToken = default)
    {
        if (location.IsPrefix)
        {
            throw new ArgumentException($"{location} names a prefix, not an object.", nameof(location));
        }

        var body = content;
        if (!content.CanSeek)
        {
            body = new MemoryStream();
            await content.CopyToAsync(body, cancellationToken);
            body.Position = 0;
        }

        var request = new PutObjectRequest
        {
            BucketName = location.Bucket,
            Key = location.Key,
            InputStream = body,
            AutoCloseStream = false,
            ContentType = contentType ?? "application/octet-stream",
            // Streaming (aws-chunked) signing is accepted by AWS and MinIO, but s3rver stores the chunk framing
            // as part of the object. A plain signed body is correct everywhere.
            UseChunkEncoding = false,
        };
        try
        {
            await Call(location, () => Client.PutObjectAsync(request, cancellationToken));
        }
        finally
        {
            if (!ReferenceEquals(body, content))
            {
                await body.DisposeAsync();
            }
        }
    }

    /// <summary>Metadata of the object, or null when it does not exist.</summary>
    public async Task<ArtifactInfo?> HeadAsync(S3Location location, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await Call(location, () => Client.GetObjectMetadataAsync(location.Bucket, location.Key, cancellationToken));
            return new ArtifactInfo(location, response.ContentLength, response.ETag, response.LastModified);
        }
        catch (ArtifactNotFoundException)
        {
            return null;
        }
    }

    public async Task<bool> ExistsAsync(S3Location location, CancellationToken cancellationToken = default) =>
        await HeadAsync(location, cancellationToken) is not null;

    /// <summary>SHA-256 (lower-case hex) of the object, computed while streaming it.</summary>
    public async Task<string> ComputeSha256Async(S3Location location, CancellationToken cancellationToken = default) =>
        (await HashAsync(location, cancellationToken)).Sha256;

    /// <summary>
    /// SHA-256 (lower-case hex) of the object together with the size and ETag of the same GET, so both describe one
    /// version of the object even when it is replaced meanwhile. A connection lost mid-stream is a transient failure.
    /// </summary>
    public async Task<(string Sha256, ArtifactInfo Info)> HashAsync(S3Location location, CancellationToken cancellationToken = default)
    {
        var response = await Call(location, () => Client.GetObjectAsync(location.Bucket, location.Key, cancellationToken));
        await using var stream = new ResponseStream(response);
        var info = new ArtifactInfo(location, response.ContentLength, response.ETag, response.LastModified);
        try
        {
            return (await ContentDigest.Sha256HexAsync(stream, cancellationToken), info);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new ArtifactStoreException($"Lost the connection to S3 while reading {location}: {e.Message}", isTransient: true, e);
        }
    }

    /// <summary>All objects whose key starts with the prefix's key, in key order.</summary>
    public async Task<IReadOnlyList<ArtifactInfo>> ListAsync(S3Location prefix, CancellationToken cancellationToken = default)
    {
        var results = new List<ArtifactInfo>();
        var request = new ListObjectsV2Request { BucketName = prefix.Bucket, Prefix = prefix.Key };
        do
        {
            var response = await Call(prefix, () => Client.ListObjectsV2Async(request, cancellationToken));
            foreach (var entry in response.S3Objects ?? [])
            {
                results.Add(new ArtifactInfo(new S3Location(prefix.Bucket, entry.Key), entry.Size ?? 0, entry.ETag, entry.LastModified));
            }

            request.ContinuationToken = response.NextContinuationToken;
            if (response.IsTruncated != true)
            {
                break;
            }
        }
        while (request.ContinuationToken is not null);

        return results;
    }

    private static async Task<T> Call<T>(S3Location location, Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound || e.ErrorCode is "NoSuchKey" or "NoSuchBucket")
        {
            throw new ArtifactNotFoundException(location, e);
        }
        catch (AmazonServiceException e)
        {
            var transient = e.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
                or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout or HttpStatusCode.TooManyRequests
                or HttpStatusCode.RequestTimeout || e.ErrorCode is "SlowDown" or "RequestTimeout";
            throw new ArtifactStoreException($"S3 refused {location}: {e.StatusCode} {e.ErrorCode}: {e.Message}", transient, e);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException or AmazonClientException
            || (e is TaskCanceledException && e.InnerException is TimeoutException))
        {
            throw new ArtifactStoreException($"Could not reach S3 for {location}: {e.Message}", isTransient: true, e);
        }
    }

    /// <summary>Disposes the response (and so its connection) together with its body stream.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Stream
    {
        private readonly Stream inner = response.ResponseStream;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => response.ContentLength;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
