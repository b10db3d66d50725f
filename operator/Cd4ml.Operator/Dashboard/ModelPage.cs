using System.Text;
using Cd4ml.Api.V1Alpha1;

namespace Cd4ml.Operator.Dashboard;

/// <summary>One model: a chart per metric across its versions with the quality gates as lines, its versions and runs.</summary>
public static class ModelPage
{
    public static string Render(DashboardData data, string ns, string model, int refreshSeconds)
    {
        var versions = data.ModelVersions(ns, model);
        var runs = data.TrainingRuns(ns, model);
        var body = new StringBuilder();
        body.Append($"<p class=\"muted\">Namespace {Html.Text(ns)} · {versions.Count} versions · {runs.Count} training runs</p>");

        body.Append("<section aria-labelledby=\"charts\"><h2 id=\"charts\">Metrics across versions</h2>");
        var metrics = versions.SelectMany(v => v.Spec.Metrics?.Keys ?? Enumerable.Empty<string>())
            .Distinct().Order(StringComparer.Ordinal).ToList();
        if (metrics.Count == 0)
        {
            body.Append("<p class=\"placeholder\">No version has metrics yet.</p>");
        }

        foreach (var metric in metrics)
        {
            body.Append(MetricChart(model, metric, versions, runs));
        }

        body.Append("</section>");
        body.Append(VersionTable(versions));
        body.Append(RunTable(runs));
        return Html.Page($"Model {model}", body.ToString(), refreshSeconds);
    }

    /// <summary>One metric's value per version (x = version number) and every distinct gate on it as a horizontal line.</summary>
    public static ChartSpec MetricChartSpec(string model, string metric, IEnumerable<ModelVersion> versions, IEnumerable<TrainingRun> runs)
    {
        var points = versions
            .Where(v => v.Spec.Metrics?.ContainsKey(metric) == true)
            .Select(v => new ChartPoint(v.Spec.Version, v.Spec.Metrics![metric], $"v{v.Spec.Version} ({v.Metadata.Name}): {metric} = {Html.Number(v.Spec.Metrics[metric])}",
                "point", new Dictionary<string, string>
                {
                    ["version"] = v.Spec.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["name"] = v.Metadata.Name,
                    ["value"] = SvgChart.Num(v.Spec.Metrics[metric]),
                    ["approved"] = v.Spec.Approved == true ? "true" : "false",
                }))
            .ToList();
        var gates = runs.SelectMany(r => r.Spec.Gates ?? [])
            .Where(g => g.Metric == metric)
            .DistinctBy(g => (g.Comparison, g.Value))
            .Select(g => new ChartLine(g.Value, $"gate {Symbol(g.Comparison)} {Html.Number(g.Value)}", "gate",
                new Dictionary<string, string> { ["threshold"] = SvgChart.Num(g.Value), ["comparison"] = g.Comparison.ToString() }))
            .ToList();
        return new ChartSpec($"chart-{metric}", $"{metric} of {model} by version",
            $"{points.Count} versions; {gates.Count} quality gates drawn as dashed lines")
        {
            Points = points,
            Lines = gates,
            XTicks = points.Select(p => (p.X, $"v{p.X}")).ToList(),
        };
    }

    private static string MetricChart(string model, string metric, IReadOnlyList<ModelVersion> versions, IReadOnlyList<TrainingRun> runs)
    {
        var spec = MetricChartSpec(model, metric, versions, runs);
        return $"<figure data-metric=\"{Html.Attr(metric)}\"><figcaption>{Html.Text(metric)}</figcaption>{SvgChart.Render(spec)}</figure>";
    }

    private static string VersionTable(IReadOnlyList<ModelVersion> versions)
    {
        var table = new StringBuilder("<section aria-labelledby=\"versions\"><h2 id=\"versions\">ModelVersions</h2>");
        table.Append("<table id=\"version-table\"><thead><tr><th scope=\"col\">Version</th><th scope=\"col\">Name</th>")
            .Append("<th scope=\"col\">Phase</th><th scope=\"col\">Approved</th><th scope=\"col\">Metrics</th>")
            .Append("<th scope=\"col\">Training run</th><th scope=\"col\">Served by</th></tr></thead><tbody>");
        foreach (var v in versions)
        {
            var approval = v.Spec.Approved switch
            {
                true => "<span class=\"badge badge-successful\">approved</span>",
                false => "<span class=\"badge badge-failed\">not approved</span>",
                null => "<span class=\"muted\">not required</span>",
            };
            var metrics = string.Join(", ", (v.Spec.Metrics ?? []).OrderBy(m => m.Key, StringComparer.Ordinal)
                .Select(m => $"{Html.Text(m.Key)}={Html.Number(m.Value)}"));
            table.Append($"<tr data-version=\"{v.Spec.Version}\" data-approved=\"{(v.Spec.Approved == true ? "true" : "false")}\">")
                .Append($"<td>v{v.Spec.Version}</td><td>{Html.Text(v.Metadata.Name)}</td><td>{Html.Badge(v.Status?.Phase)}</td>")
                .Append($"<td>{approval}</td><td>{metrics}</td>")
                .Append($"<td>{Html.Text(v.Spec.Lineage?.TrainingRun)}{(v.Spec.Lineage?.Attempt is { } a ? $" #{a}" : "")}</td>")
                .Append($"<td>{Html.Text(string.Join(", ", v.Status?.ServedBy ?? []))}</td></tr>");
        }

        return table.Append("</tbody></table></section>").ToString();
    }

    private static string RunTable(IReadOnlyList<TrainingRun> runs)
    {
        var table = new StringBuilder("<section aria-labelledby=\"runs\"><h2 id=\"runs\">TrainingRuns and attempts</h2>");
        foreach (var run in runs)
        {
            var status = run.Status;
            table.Append($"<h3 id=\"run-{Html.Attr(run.Metadata.Name)}\">{Html.Text(run.Metadata.Name)} {Html.Badge(status?.Phase)}</h3>")
                .Append($"<p>Dataset <code>{Html.Text(run.Spec.Dataset.Uri)}</code> · metric {Html.Text(status?.Headline)} · ")
                .Append($"gates {Html.Text(status?.GatesSummary)} · version {Html.Text(status?.ModelVersion)}</p>");
            if (status?.Gates is { Count: > 0 } gates)
            {
                table.Append("<table class=\"gates\"><thead><tr><th scope=\"col\">Gate</th><th scope=\"col\">Value</th><th scope=\"col\">Result</th></tr></thead><tbody>");
                foreach (var gate in gates)
                {
                    table.Append($"<tr><td>{Html.Text(gate.Metric)} {Html.Text(gate.Comparison)} {Html.Number(gate.Threshold)}</td>")
                        .Append($"<td>{Html.Number(gate.Value)}</td><td>{Html.Badge(gate.Passed ? "Successful" : "Failed")}</td></tr>");
                }

                table.Append("</tbody></table>");
            }

            table.Append($"<table class=\"attempts\" data-run=\"{Html.Attr(run.Metadata.Name)}\"><thead><tr><th scope=\"col\">Attempt</th>")
                .Append("<th scope=\"col\">Phase</th><th scope=\"col\">Reason</th><th scope=\"col\">Metric</th><th scope=\"col\">Dataset digest</th>")
                .Append("<th scope=\"col\">Version</th><th scope=\"col\">Started</th><th scope=\"col\">Completed</th></tr></thead><tbody>");
            foreach (var attempt in status?.History ?? [])
            {
                table.Append($"<tr data-attempt=\"{attempt.Attempt}\"><td>#{attempt.Attempt}</td><td>{Html.Badge(attempt.Phase)}</td>")
                    .Append($"<td>{Html.Text(attempt.Reason)}</td><td>{Html.Text(attempt.Headline)}</td>")
                    .Append($"<td><code>{Html.Text(attempt.DatasetDigest)}</code></td><td>{Html.Text(attempt.ModelVersion)}</td>")
                    .Append($"<td>{Html.Time(attempt.StartTime)}</td><td>{Html.Time(attempt.CompletionTime)}</td></tr>");
            }

            table.Append("</tbody></table>");
        }

        return table.Append("</section>").ToString();
    }

    private static string Symbol(Comparison comparison) => comparison switch
    {
        Comparison.LessThan => "<",
        Comparison.LessThanOrEqual => "≤",
        Comparison.GreaterThan => ">",
        _ => "≥",
    };
}
