using System.Globalization;
using Spectre.Console;

namespace Cd4ml.Kubectl.Views;

/// <summary>Markup pieces shared by the trees and tables; every user-supplied text goes through <see cref="Markup.Escape"/>.</summary>
internal static class Format
{
    public const string Passed = "[green]✔[/]";
    public const string Failed = "[red]✘[/]";
    public const string Unknown = "[yellow]?[/]";

    public static string Number(double value) =>
        Math.Abs(value) >= 1000 || value == Math.Floor(value)
            ? value.ToString("0.##", CultureInfo.InvariantCulture)
            : value.ToString("0.####", CultureInfo.InvariantCulture);

    public static string Escape(string? text) => Markup.Escape(text ?? "");

    public static string Name(string? name) => $"[bold]{Escape(name)}[/]";

    public static string Dim(string? text) => $"[grey]{Escape(text)}[/]";

    /// <summary>A phase coloured by what it means for the user: green done/healthy, red failed, yellow waiting.</summary>
    public static string Phase(string? phase) => phase switch
    {
        null or "" => Dim("(no status yet)"),
        "Succeeded" or "Ready" or "Healthy" => $"[green]{Escape(phase)}[/]",
        "Failed" or "Invalid" or "Degraded" => $"[red]{Escape(phase)}[/]",
        _ => $"[yellow]{Escape(phase)}[/]",
    };

    public static string Time(DateTime? time) =>
        time is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "";

    /// <summary>A sha256 digest cut to 12 hex digits, enough to tell datasets apart at a glance.</summary>
    public static string ShortDigest(string? digest)
    {
        if (string.IsNullOrEmpty(digest))
        {
            return "";
        }

        var hex = digest.StartsWith("sha256:", StringComparison.Ordinal) ? digest["sha256:".Length..] : digest;
        return "sha256:" + hex[..Math.Min(12, hex.Length)];
    }

    /// <summary>Overall metrics (rmse, r2, trainRows…) then holdout and worst-slice ones; per-slice metrics are left out.</summary>
    public static string Metrics(IReadOnlyDictionary<string, double>? metrics, int limit = 8)
    {
        if (metrics is null || metrics.Count == 0)
        {
            return Dim("no metrics");
        }

        var shown = metrics.Where(m => !m.Key.StartsWith("slice.", StringComparison.Ordinal))
            .OrderBy(m => MetricOrder(m.Key)).ThenBy(m => m.Key, StringComparer.Ordinal)
            .Take(limit).Select(m => $"{Escape(m.Key)}={Number(m.Value)}");
        return string.Join("  ", shown);
    }

    /// <summary>Headline quality metrics first, then holdout, worst slice, row counts, slices.</summary>
    public static int MetricOrder(string name) =>
        name.StartsWith("slice.", StringComparison.Ordinal) ? 4
        : name.StartsWith("worstSlice.", StringComparison.Ordinal) ? 2
        : name.StartsWith("holdout.", StringComparison.Ordinal) ? 1
        : name.EndsWith("Rows", StringComparison.Ordinal) ? 3
        : 0;
}
