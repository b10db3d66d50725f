using System.Diagnostics.CodeAnalysis;

namespace Cd4ml.Artifacts;

/// <summary>An object or prefix in S3, written <c>s3://bucket/key</c>.</summary>
public sealed record S3Location
{
    private const string Scheme = "s3://";

    public S3Location(string bucket, string key)
    {
        if (!IsValidBucket(bucket))
        {
            throw new FormatException($"'{bucket}' is not a valid S3 bucket name (3-63 characters: lower-case letters, digits, '.', '-').");
        }

        Bucket = bucket;
        Key = key.TrimStart('/');
    }

    public string Bucket { get; }

    /// <summary>The object key; empty for the bucket root. A prefix ends with '/'.</summary>
    public string Key { get; }

    /// <summary>True when this names a "folder": the bucket root or a key ending in '/'.</summary>
    public bool IsPrefix => Key.Length == 0 || Key.EndsWith('/');

    /// <summary>The last path segment of the key (the file name of an object).</summary>
    public string Name => Key.TrimEnd('/') is var trimmed && trimmed.LastIndexOf('/') is var slash and >= 0
        ? trimmed[(slash + 1)..]
        : Key.TrimEnd('/');

    public static S3Location Parse(string value)
    {
        if (TryParse(value, out var location, out var error))
        {
            return location;
        }

        throw new FormatException(error);
    }

    public static bool TryParse(string? value, [NotNullWhen(true)] out S3Location? location) =>
        TryParse(value, out location, out _);

    private static bool TryParse(string? value, [NotNullWhen(true)] out S3Location? location, out string error)
    {
        location = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "An S3 URI is required, e.g. s3://bucket/path/to/object; got an empty value.";
            return false;
        }

        if (!value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            error = $"'{value}' is not an S3 URI: expected s3://bucket/key.";
            return false;
        }

        var rest = value[Scheme.Length..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var key = slash < 0 ? "" : rest[(slash + 1)..];
        if (!IsValidBucket(bucket))
        {
            error = $"'{value}' is not an S3 URI: '{bucket}' is not a valid bucket name.";
            return false;
        }

        if (key.StartsWith('/') || key.Contains("//", StringComparison.Ordinal))
        {
            error = $"'{value}' is not an S3 URI: the key must not contain empty path segments.";
            return false;
        }

        location = new S3Location(bucket, key);
        error = "";
        return true;
    }

    /// <summary>A location below this one: <c>s3://b/runs/</c> combined with <c>model.zip</c> is <c>s3://b/runs/model.zip</c>.</summary>
    public S3Location Combine(string relative)
    {
        ArgumentException.ThrowIfNullOrEmpty(relative);
        var prefix = Key.Length == 0 || Key.EndsWith('/') ? Key : Key + "/";
        return new S3Location(Bucket, prefix + relative.TrimStart('/'));
    }

    /// <summary>This location as a prefix (key ends with '/').</summary>
    public S3Location AsPrefix() => IsPrefix ? this : new S3Location(Bucket, Key + "/");

    public override string ToString() => $"{Scheme}{Bucket}/{Key}";

    // Loose on purpose: AWS forbids some names that S3-compatible stores accept; the server has the last word.
    private static bool IsValidBucket(string bucket) =>
        bucket.Length is >= 3 and <= 63
        && IsLowerOrDigit(bucket[0])
        && IsLowerOrDigit(bucket[^1])
        && bucket.All(c => IsLowerOrDigit(c) || c is '.' or '-');

    private static bool IsLowerOrDigit(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
}
