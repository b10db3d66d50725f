using System.Security.Cryptography;
using Cd4ml.Artifacts;

namespace Cd4ml.Training;

/// <summary>Reads through another stream and hashes every byte read, so a file is digested while it is parsed.</summary>
internal sealed class DigestingStream(Stream inner) : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        hash.AppendData(buffer[..read]);
        return read;
    }

    /// <summary>Reads (and hashes) what is left.</summary>
    public void ReadToEnd()
    {
        Span<byte> buffer = stackalloc byte[8192];
        while (Read(buffer) > 0)
        {
        }
    }

    /// <summary><c>sha256:&lt;hex&gt;</c> of the bytes read so far.</summary>
    public string Digest() => ContentDigest.Sha256Prefix + Convert.ToHexStringLower(hash.GetCurrentHash());

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
