using System.Globalization;
using System.Net;
using System.Text;

namespace Cd4ml.Operator.Dashboard;

/// <summary>Encoding and the shared page frame: every value from the cluster goes through <see cref="Text"/> or <see cref="Attr"/>.</summary>
public static class Html
{
    public static string Text(string? value) => WebUtility.HtmlEncode(value ?? "");

    public static string Attr(string? value) => WebUtility.HtmlEncode(value ?? "");

    public static string Url(string value) => Uri.EscapeDataString(value);

    public static string Time(DateTime? time) =>
        time is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "";

    public static string Number(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "";

    /// <summary>A phase as a coloured badge; the colour repeats the word, never replaces it.</summary>
    public static string Badge(string? phase) =>
        string.IsNullOrEmpty(phase) ? "" : $"<span class=\"badge badge-{Attr(phase.ToLowerInvariant())}\">{Text(phase)}</span>";

    /// <summary>What the page could not read, at its top; nothing when every read succeeded.</summary>
    public static string Problems(IReadOnlyList<string> problems) =>
        string.Concat(problems.Select(p => $"<p class=\"alert read-problem\" role=\"alert\">{Text(p)}</p>"));

    public static string ModelLink(string ns, string model) =>
        $"<a href=\"/dashboard/models/{Url(ns)}/{Url(model)}\">{Text(model)}</a>";

    public static string DeploymentLink(string ns, string name) =>
        $"<a href=\"/dashboard/deployments/{Url(ns)}/{Url(name)}\">{Text(name)}</a>";

    public static string LineageLink(string ns, string name) =>
        $"<a href=\"/dashboard/lineage/{Url(ns)}/{Url(name)}\">lineage</a>";

    /// <summary>The whole page: read-only, self-contained (inline CSS, no script), refreshed by the browser.</summary>
    public static string Page(string title, string body, int refreshSeconds)
    {
        var page = new StringBuilder();
        page.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        if (refreshSeconds > 0)
        {
            page.Append($"<meta http-equiv=\"refresh\" content=\"{refreshSeconds}\">");
        }

        page.Append($"<title>{Text(title)} · cd4ml</title><style>{Style}</style></head><body>")
            .Append("<header><nav aria-label=\"Main\"><a class=\"brand\" href=\"/dashboard\">cd4ml dashboard</a>")
            .Append("<span class=\"note\">read-only</span></nav></header>")
            .Append($"<main><h1>{Text(title)}</h1>{body}</main></body></html>");
        return page.ToString();
    }

    private const string Style = """
        :root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --accent: #0969da; }
        body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; background: #fff; }
        header { background: #24292f; padding: .6rem 1.2rem; }
        header a.brand { color: #fff; font-weight: 600; text-decoration: none; }
        header .note { color: #afb8c1; margin-left: 1rem; font-size: .85rem; }
        main { padding: 1rem 1.2rem 3rem; max-width: 1100px; }
        h1 { font-size: 1.4rem; margin: .3rem 0 1rem; } h2 { font-size: 1.15rem; margin-top: 1.8rem; } h3 { font-size: 1rem; }
        a { color: var(--accent); }
        table { border-collapse: collapse; margin: .5rem 0 1rem; }
        th, td { border-bottom: 1px solid var(--line); padding: .3rem .7rem; text-align: left; vertical-align: top; }
        th { font-weight: 600; background: #f6f8fa; }
        code { font-size: .85rem; background: #f6f8fa; padding: 0 .25rem; border-radius: 3px; word-break: break-all; }
        .badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .8rem; border: 1px solid var(--line); }
        .badge-healthy, .badge-succeeded, .badge-ready, .badge-successful, .badge-promoted, .badge-running-pod { color: var(--ok); border-color: var(--ok); }
        .badge-degraded, .badge-failed, .badge-invalid, .badge-rolledback, .badge-error { color: var(--bad); border-color: var(--bad); }
        .badge-paused, .badge-progressing, .badge-inconclusive, .badge-pending, .badge-running, .badge-queued { color: var(--warn); border-color: var(--warn); }
        .alert { border-left: 4px solid var(--bad); background: #ffebe9; padding: .5rem .8rem; margin: .5rem 0 1rem; }
        .placeholder { border: 1px dashed var(--line); color: var(--muted); padding: .5rem .8rem; }
        .muted { color: var(--muted); }
        figure { margin: .5rem 0 1.2rem; } figcaption { font-weight: 600; margin-bottom: .2rem; }
        svg.chart { width: 100%; max-width: 640px; height: auto; border: 1px solid var(--line); background: #fff; }
        svg .axis { stroke: var(--fg); } svg .grid { stroke: #eaeef2; }
        svg .tick { font-size: 11px; fill: var(--muted); }
        svg .series { fill: none; stroke: var(--accent); stroke-width: 2; }
        svg circle { fill: var(--accent); stroke: #fff; stroke-width: 1.5; }
        svg circle.phase-failed, svg circle.phase-error { fill: var(--bad); }
        svg circle.phase-inconclusive { fill: var(--warn); }
        svg circle.phase-successful { fill: var(--ok); }
        svg .gate line, svg .threshold line { stroke: var(--bad); stroke-dasharray: 6 4; stroke-width: 1.5; }
        svg .gate text, svg .threshold text { font-size: 11px; fill: var(--bad); }
        svg .rollback-marker line { stroke: var(--bad); stroke-width: 2; } svg .rollback-marker text { font-size: 11px; fill: var(--bad); }
        svg .promotion-marker line { stroke: var(--ok); stroke-width: 2; } svg .promotion-marker text { font-size: 11px; fill: var(--ok); }
        .lineage { list-style: none; padding: 0; } .lineage > li { border-left: 3px solid var(--accent); margin: 0 0 .2rem; padding: .2rem .8rem; }
        .lineage > li + li::before { content: "↓ "; display: block; color: var(--muted); margin-left: -.4rem; }
        """;
}
