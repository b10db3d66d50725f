using System.Globalization;
using System.Text.RegularExpressions;

namespace Cd4ml.Operator;

/// <summary>Durations as the API writes them (Go style: 500ms, 30s, 1m30s, 1.5h), for every controller.</summary>
public static partial class DurationText
{
    public static TimeSpan Parse(string text) =>
        TryParse(text) ?? throw new FormatException($"'{text}' is not a duration like 30s, 1m30s or 500ms.");

    /// <summary>The duration, or null when the text is not one.</summary>
    public static TimeSpan? TryParse(string text)
    {
        var matches = Part().Matches(text);
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != text)
        {
            return null;
        }

        var total = TimeSpan.Zero;
        foreach (Match match in matches)
        {
            var amount = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            total += match.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromHours(amount),
            };
        }

        return total;
    }

    public static TimeSpan ParseOr(string? text, TimeSpan fallback) =>
        string.IsNullOrEmpty(text) ? fallback : Parse(text);

    /// <summary>PromQL range text: whole seconds, at least 1s.</summary>
    public static string ToPromQl(TimeSpan span) => $"{Math.Max(1, (long)Math.Ceiling(span.TotalSeconds))}s";

    [GeneratedRegex("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)")]
    private static partial Regex Part();
}
