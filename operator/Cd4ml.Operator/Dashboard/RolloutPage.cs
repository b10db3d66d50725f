using System.Globalization;
using System.Text;
using System.Text.Json;
using Cd4ml.Api.V1Alpha1;
using k8s.Models;

namespace Cd4ml.Operator.Dashboard;

/// <summary>
/// A Deployment's rollout: the canary weight over time with promotion and rollback markers, each analysis
/// measurement against its threshold, the rollout history, and live monitoring when the operator records it.
/// </summary>
public static class RolloutPage
{
    public static string Render(ModelDeployment deployment, IReadOnlyList<Corev1Event> events, JsonElement? monitoring,
        DateTime now, IReadOnlyList<string> readProblems, int refreshSeconds)
    {
        var ns = deployment.Metadata.NamespaceProperty;
        var status = deployment.Status;
        var body = new StringBuilder(Html.Problems(readProblems));
        body.Append($"<p class=\"muted\">Namespace {Html.Text(ns)} · model {Html.ModelLink(ns, deployment.Spec.ModelName)} · ")
            .Append($"{Html.LineageLink(ns, deployment.Metadata.Name)}</p>");
        body.Append($"<table id=\"rollout-summary\"><tbody><tr><th scope=\"row\">Phase</th><td>{Html.Badge(status?.Phase)}</td></tr>")
            .Append($"<tr><th scope=\"row\">Stable</th><td>{Html.Text(status?.StableVersion)}</td></tr>")
            .Append($"<tr><th scope=\"row\">Canary</th><td>{Html.Text(status?.CanaryVersion)}</td></tr>")
            .Append($"<tr><th scope=\"row\">Weight</th><td>{status?.CanaryWeight ?? 0}% (requested {status?.RequestedWeight ?? 0}%)</td></tr>")
            .Append($"<tr><th scope=\"row\">Step</th><td>{Html.Text(status?.CurrentStepText)}</td></tr></tbody></table>");
        if (status?.AbortReason is { } abort)
        {
            body.Append($"<p class=\"alert\" id=\"abort-reason\" role=\"status\"><strong>Rolled back:</strong> {Html.Text(abort)}</p>");
        }

        var timeline = RolloutTimeline.Build(deployment, events, now);
        body.Append("<section aria-labelledby=\"timeline\"><h2 id=\"timeline\">Canary weight over time</h2>");
        if (timeline.Steps.Count == 0 && timeline.Outcomes.Count == 0)
        {
            body.Append("<p class=\"placeholder\">No rollout recorded yet (events are kept by the cluster for about an hour).</p>");
        }
        else
        {
            body.Append($"<figure>{SvgChart.Render(WeightChartSpec(timeline))}</figure>");
        }

        body.Append("</section>");

        body.Append("<section aria-labelledby=\"analysis\"><h2 id=\"analysis\">Analysis measurements</h2>");
        var measurements = status?.Analysis?.Measurements ?? [];
        if (measurements.Count == 0)
        {
            body.Append("<p class=\"placeholder\">No measurements in the current step.</p>");
        }

        foreach (var metric in measurements.Select(m => m.Metric).Distinct())
        {
            // A metric from a platform analysis template is not in the Deployment's spec: its measurements carry the
            // threshold they were judged against.
            var spec = deployment.Spec.Strategy?.Canary?.Analysis?.Metrics?.FirstOrDefault(m => m.Name == metric)
                       ?? ThresholdOf(metric, measurements.LastOrDefault(m => m.Metric == metric)?.Threshold);
            body.Append($"<figure data-metric=\"{Html.Attr(metric)}\"><figcaption>{Html.Text(metric)}</figcaption>")
                .Append(SvgChart.Render(MeasurementChartSpec(metric, measurements.Where(m => m.Metric == metric).ToList(), spec)))
                .Append("</figure>");
        }

        if (measurements.Count > 0)
        {
            body.Append("<table id=\"measurement-table\"><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Metric</th>")
                .Append("<th scope=\"col\">Phase</th><th scope=\"col\">Value</th><th scope=\"col\">Threshold</th><th scope=\"col\">Samples</th>")
                .Append("<th scope=\"col\">Message</th></tr></thead><tbody>");
            foreach (var m in measurements)
            {
                body.Append($"<tr><td>{Html.Time(m.Time)}</td><td>{Html.Text(m.Metric)}</td><td>{Html.Badge(m.Phase)}</td>")
                    .Append($"<td>{Html.Number(m.Value)}</td><td>{Html.Text(m.Threshold)}</td><td>{Html.Number(m.SampleCount)}</td>")
                    .Append($"<td>{Html.Text(m.Message)}</td></tr>");
            }

            body.Append("</tbody></table>");
        }

        body.Append("</section>");

        body.Append("<section aria-labelledby=\"history\"><h2 id=\"history\">History</h2>")
            .Append("<table id=\"history-table\"><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Version</th>")
            .Append("<th scope=\"col\">Outcome</th><th scope=\"col\">Reason</th></tr></thead><tbody>");
        foreach (var record in status?.History ?? [])
        {
            body.Append($"<tr data-outcome=\"{Html.Attr(record.Outcome)}\"><td>{Html.Time(record.Time)}</td><td>{Html.Text(record.Version)}</td>")
                .Append($"<td>{Html.Badge(record.Outcome)}</td><td>{Html.Text(record.Reason)}</td></tr>");
        }

        body.Append("</tbody></table></section>");
        body.Append(MonitoringSection.Render(monitoring));
        return Html.Page($"Deployment {deployment.Metadata.Name}", body.ToString(), refreshSeconds);
    }

    public static ChartSpec WeightChartSpec(RolloutTimeline timeline)
    {
        var points = timeline.Steps.Select(s => new ChartPoint(Seconds(s.Time), s.Weight, $"{Html.Time(s.Time)}: {s.Weight}% — {s.Label}",
            "weight-step", new Dictionary<string, string> { ["weight"] = s.Weight.ToString(CultureInfo.InvariantCulture), ["time"] = Html.Time(s.Time) }))
            .ToList();
        var markers = timeline.Outcomes.Select(o => new ChartMarker(Seconds(o.Time), $"{o.Outcome} {o.Version}: {o.Reason}",
            o.Outcome == "RolledBack" ? "rollback-marker" : "promotion-marker",
            new Dictionary<string, string>
            {
                ["outcome"] = o.Outcome, ["version"] = o.Version, ["reason"] = o.Reason ?? "", ["time"] = Html.Time(o.Time),
            })).ToList();
        return new ChartSpec("weight-chart", "Canary weight (%) over time",
            $"{points.Count} weight steps, {markers.Count(m => m.Class == "rollback-marker")} rollbacks, "
            + $"{markers.Count(m => m.Class == "promotion-marker")} promotions")
        {
            Points = points,
            Markers = markers,
            Stepped = true,
            MinY = 0,
            MaxY = 100,
            XTicks = TimeTicks(points.Select(p => p.X).Concat(markers.Select(m => m.X)).ToList()),
        };
    }

    /// <summary>The max and min of a measurement's threshold text ("max 0.05, min 0.9", as the analysis writes it).</summary>
    public static AnalysisMetric? ThresholdOf(string metric, string? threshold)
    {
        if (string.IsNullOrEmpty(threshold))
        {
            return null;
        }

        double? Bound(string name) => threshold.Split(',', StringSplitOptions.TrimEntries)
            .Where(part => part.StartsWith(name + " ", StringComparison.Ordinal))
            .Select(part => double.TryParse(part[(name.Length + 1)..], System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : (double?)null)
            .FirstOrDefault(value => value is not null);
        var (max, min) = (Bound("max"), Bound("min"));
        return max is null && min is null ? null : new AnalysisMetric { Name = metric, Max = max, Min = min };
    }

    /// <summary>One metric's measurements over time, coloured by phase, with the spec's max and min as lines.</summary>
    public static ChartSpec MeasurementChartSpec(string metric, IReadOnlyList<Measurement> measurements, AnalysisMetric? spec)
    {
        var points = measurements.Where(m => m is { Value: not null, Time: not null })
            .Select(m => new ChartPoint(Seconds(m.Time!.Value), m.Value!.Value,
                $"{Html.Time(m.Time)}: {metric} = {Html.Number(m.Value)} ({m.Phase}; threshold {m.Threshold})",
                $"measurement phase-{m.Phase.ToLowerInvariant()}",
                new Dictionary<string, string>
                {
                    ["metric"] = metric, ["phase"] = m.Phase, ["value"] = SvgChart.Num(m.Value.Value),
                    ["threshold"] = m.Threshold ?? "", ["time"] = Html.Time(m.Time),
                }))
            .ToList();
        var lines = new List<ChartLine>();
        if (spec?.Max is { } max)
        {
            lines.Add(new ChartLine(max, $"max {Html.Number(max)}", "threshold",
                new Dictionary<string, string> { ["bound"] = "max", ["threshold"] = SvgChart.Num(max) }));
        }

        if (spec?.Min is { } min)
        {
            lines.Add(new ChartLine(min, $"min {Html.Number(min)}", "threshold",
                new Dictionary<string, string> { ["bound"] = "min", ["threshold"] = SvgChart.Num(min) }));
        }

        return new ChartSpec($"measurements-{metric}", $"{metric} of the canary per measurement",
            $"{points.Count} measurements; thresholds drawn as dashed lines")
        {
            Points = points,
            Lines = lines,
            MinY = points.Count > 0 && points.All(p => p.Y >= 0) && lines.All(l => l.Y >= 0) ? 0 : null,
            XTicks = TimeTicks(points.Select(p => p.X).ToList()),
        };
    }

    private static double Seconds(DateTime time) => new DateTimeOffset(time.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;

    private static IReadOnlyList<(double X, string Label)> TimeTicks(IReadOnlyList<double> xs)
    {
        if (xs.Count == 0)
        {
            return [];
        }

        var (min, max) = (xs.Min(), xs.Max());
        var count = max > min ? 4 : 0;
        return Enumerable.Range(0, count + 1)
            .Select(i => min + (max - min) * i / Math.Max(count, 1))
            .Select(x => (x, DateTimeOffset.FromUnixTimeMilliseconds((long)(x * 1000)).UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)))
            .ToList();
    }
}

/// <summary>
/// status.monitoring (live quality and drift), rendered from whatever fields it has: lists of objects become tables,
/// other values a line each. Absent, a marked placeholder says so.
/// </summary>
public static class MonitoringSection
{
    public static string Render(JsonElement? monitoring)
    {
        var section = new StringBuilder("<section aria-labelledby=\"monitoring\" id=\"monitoring-section\"><h2 id=\"monitoring\">Live quality and drift</h2>");
        if (monitoring is not { ValueKind: JsonValueKind.Object } value)
        {
            return section.Append("<p class=\"placeholder\" id=\"monitoring-placeholder\">No status.monitoring on this Deployment: ")
                .Append("live quality and drift appear here once the operator records them.</p></section>").ToString();
        }

        foreach (var property in value.EnumerateObject())
        {
            section.Append($"<h3>{Html.Text(property.Name)}</h3>");
            if (property.Value is { ValueKind: JsonValueKind.Array } list && list.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Object))
            {
                var columns = list.EnumerateArray().SelectMany(e => e.EnumerateObject().Select(p => p.Name)).Distinct().ToList();
                section.Append($"<table class=\"monitoring\" data-field=\"{Html.Attr(property.Name)}\"><thead><tr>")
                    .Append(string.Concat(columns.Select(c => $"<th scope=\"col\">{Html.Text(c)}</th>"))).Append("</tr></thead><tbody>");
                foreach (var row in list.EnumerateArray())
                {
                    section.Append("<tr>").Append(string.Concat(columns.Select(c =>
                        $"<td>{Html.Text(row.TryGetProperty(c, out var cell) ? Scalar(cell) : "")}</td>"))).Append("</tr>");
                }

                section.Append("</tbody></table>");
            }
            else
            {
                section.Append($"<p data-field=\"{Html.Attr(property.Name)}\"><code>{Html.Text(Scalar(property.Value))}</code></p>");
            }
        }

        return section.Append("</section>").ToString();
    }

    private static string Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        JsonValueKind.Null => "",
        _ => value.GetRawText(),
    };
}
