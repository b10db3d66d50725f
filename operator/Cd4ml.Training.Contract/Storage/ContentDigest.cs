using System.Security.Cryptography;

namespace Cd4ml.Artifacts;

/// <summary>SHA-256 digests as lower-case hex, and in the <c>sha256:&lt;hex&gt;</c> form used for datasets.</summary>
public static class ContentDigest
{
    public const string Sha256Prefix = "sha256:";

    public static string Sha256Hex(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    public static async Task<string> Sha256HexAsync(Stream content, CancellationToken cancellationToken = default) =>
        Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken));

    /// <summary><c>sha256:&lt;hex&gt;</c> of the content.</summary>
    public static string Sha256Digest(ReadOnlySpan<byte> content) => Sha256Prefix + Sha256Hex(content);

    /// <summary>Normalizes a user-given digest (<c>sha256:HEX</c>, any case) or explains why it is not one.</summary>
    public static string ParseSha256Digest(string value)
    {
        var trimmed = value.Trim();
        if (trimmed.StartsWith(Sha256Prefix, StringComparison.OrdinalIgnoreCase))
        {
            var hex = trimmed[Sha256Prefix.Length..];
            if (hex.Length == 64 && hex.All(char.IsAsciiHexDigit))
            {
                return Sha256Prefix + hex.ToLowerInvariant();
            }
        }

        throw new FormatException($"'{value}' is not a digest of the form sha256:<64 hex digits>.");
    }
}
