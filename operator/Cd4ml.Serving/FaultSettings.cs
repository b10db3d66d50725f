using System.Globalization;

namespace Cd4ml.Serving;

/// <summary>
/// Deliberate failures for canary tests and chaos drills: every prediction waits <see cref="Latency"/>, then fails
/// with 500 (counted as server_error) with probability <see cref="ErrorRate"/>.
/// </summary>
public sealed record FaultSettings(double ErrorRate, TimeSpan Latency)
{
    public static readonly FaultSettings None = new(0, TimeSpan.Zero);

    /// <summary>Reads <c>250ms</c>, <c>1.5s</c>, <c>2m</c> or <c>0</c>.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        text = text.Trim();
        var (number, scale) = text switch
        {
            "0" => ("0", 1.0),
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 1.0),
            _ when text.EndsWith('s') => (text[..^1], 1000.0),
            _ when text.EndsWith('m') => (text[..^1], 60_000.0),
            _ => ("", 0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        duration = TimeSpan.FromMilliseconds(value * scale);
        return true;
    }

    public static string FormatDuration(TimeSpan duration) =>
        duration.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
}
