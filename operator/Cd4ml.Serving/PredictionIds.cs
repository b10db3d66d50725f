using System.Globalization;
using System.Security.Cryptography;

namespace Cd4ml.Serving;

/// <summary>
/// Prediction ids: <c>&lt;instance&gt;-&lt;counter&gt;</c>, an 8-character random instance prefix (one per server, so ids
/// stay unique across pods and restarts) and a hexadecimal counter. The rows of one request get consecutive counters.
/// Reserving ids is one interlocked add; formatting writes into a caller's buffer.
/// </summary>
internal sealed class PredictionIds
{
    /// <summary>Longest id: 8 characters, '-', 16 hex digits.</summary>
    public const int MaximumLength = 25;

    private long last;

    public PredictionIds()
    {
        Instance = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    }

    /// <summary>The random prefix of this server's ids (also part of its log object names).</summary>
    public string Instance { get; }

    /// <summary>Reserves <paramref name="count"/> consecutive ids and returns the first counter.</summary>
    public long Reserve(int count) => Interlocked.Add(ref last, count) - count + 1;

    public int Format(long counter, Span<char> destination)
    {
        Instance.CopyTo(destination);
        destination[Instance.Length] = '-';
        counter.TryFormat(destination[(Instance.Length + 1)..], out var written, "x", CultureInfo.InvariantCulture);
        return Instance.Length + 1 + written;
    }

    public string Format(long counter)
    {
        Span<char> id = stackalloc char[MaximumLength];
        return new string(id[..Format(counter, id)]);
    }

    /// <summary>The counter of an id this server issued; false for anyone else's id (or not an id at all).</summary>
    public bool TryParse(string id, out long counter)
    {
        counter = 0;
        return id.Length > Instance.Length + 1 && id.StartsWith(Instance, StringComparison.Ordinal) && id[Instance.Length] == '-'
            && long.TryParse(id.AsSpan(Instance.Length + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out counter)
            && counter > 0;
    }
}
