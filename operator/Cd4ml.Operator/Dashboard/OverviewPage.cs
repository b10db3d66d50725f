using System.Text;

namespace Cd4ml.Operator.Dashboard;

/// <summary>Every model: its Deployments (phase, stable and canary versions, weight) and its latest training runs.</summary>
public static class OverviewPage
{
    public static string Render(DashboardData data, int refreshSeconds)
    {
        var models = data.TrainingRuns().Select(r => (r.Metadata.NamespaceProperty, r.Spec.ModelName))
            .Concat(data.ModelVersions().Select(v => (v.Metadata.NamespaceProperty, v.Spec.ModelName)))
            .Concat(data.Deployments().Select(d => (d.Metadata.NamespaceProperty, d.Spec.ModelName)))
            .Distinct().OrderBy(m => m.NamespaceProperty, StringComparer.Ordinal).ThenBy(m => m.ModelName, StringComparer.Ordinal)
            .ToList();

        var body = new StringBuilder();
        if (!data.HasSynced)
        {
            body.Append("<p class=\"placeholder\">The operator's caches are still loading; this page refreshes itself.</p>");
        }

        if (models.Count == 0)
        {
            body.Append("<p class=\"placeholder\">No TrainingRuns, ModelVersions or Deployments in the namespaces this operator watches.</p>");
        }

        body.Append("<section aria-labelledby=\"deployments\"><h2 id=\"deployments\">Deployments</h2>")
            .Append("<table id=\"deployment-table\"><thead><tr><th scope=\"col\">Namespace</th><th scope=\"col\">Deployment</th>")
            .Append("<th scope=\"col\">Model</th><th scope=\"col\">Phase</th><th scope=\"col\">Stable</th><th scope=\"col\">Canary</th>")
            .Append("<th scope=\"col\">Weight</th><th scope=\"col\">Step</th><th scope=\"col\">Last outcome</th></tr></thead><tbody>");
        foreach (var d in data.Deployments())
        {
            var ns = d.Metadata.NamespaceProperty;
            var status = d.Status;
            var last = status?.History?.LastOrDefault();
            body.Append($"<tr data-deployment=\"{Html.Attr(d.Metadata.Name)}\" data-phase=\"{Html.Attr(status?.Phase)}\" ")
                .Append($"data-stable=\"{Html.Attr(status?.StableVersion)}\" data-canary=\"{Html.Attr(status?.CanaryVersion)}\" ")
                .Append($"data-weight=\"{status?.CanaryWeight ?? 0}\">")
                .Append($"<td>{Html.Text(ns)}</td><td>{Html.DeploymentLink(ns, d.Metadata.Name)} · {Html.LineageLink(ns, d.Metadata.Name)}</td>")
                .Append($"<td>{Html.ModelLink(ns, d.Spec.ModelName)}</td><td>{Html.Badge(status?.Phase)}</td>")
                .Append($"<td>{Html.Text(status?.StableVersion)}</td><td>{Html.Text(status?.CanaryVersion)}</td>")
                .Append($"<td>{(status?.CanaryVersion is null ? "" : $"{status.CanaryWeight ?? 0}%")}</td>")
                .Append($"<td>{Html.Text(status?.CurrentStepText)}</td>")
                .Append($"<td>{(last is null ? "" : $"{Html.Badge(last.Outcome)} {Html.Text(last.Version)}")}</td></tr>");
        }

        body.Append("</tbody></table></section>");

        body.Append("<section aria-labelledby=\"models\"><h2 id=\"models\">Models</h2>")
            .Append("<table id=\"model-table\"><thead><tr><th scope=\"col\">Namespace</th><th scope=\"col\">Model</th>")
            .Append("<th scope=\"col\">Versions</th><th scope=\"col\">Latest run</th><th scope=\"col\">Phase</th>")
            .Append("<th scope=\"col\">Metric</th><th scope=\"col\">Gates</th></tr></thead><tbody>");
        foreach (var (ns, model) in models)
        {
            var versions = data.ModelVersions(ns, model);
            var latest = data.TrainingRuns(ns, model).LastOrDefault();
            body.Append($"<tr data-model=\"{Html.Attr(model)}\"><td>{Html.Text(ns)}</td><td>{Html.ModelLink(ns, model)}</td>")
                .Append($"<td>{versions.Count}{(versions.Count > 0 ? $" (latest v{versions[^1].Spec.Version})" : "")}</td>")
                .Append($"<td>{Html.Text(latest?.Metadata.Name)}</td><td>{Html.Badge(latest?.Status?.Phase)}</td>")
                .Append($"<td>{Html.Text(latest?.Status?.Headline)}</td><td>{Html.Text(latest?.Status?.GatesSummary)}</td></tr>");
        }

        body.Append("</tbody></table></section>");
        return Html.Page("Overview", body.ToString(), refreshSeconds);
    }
}
