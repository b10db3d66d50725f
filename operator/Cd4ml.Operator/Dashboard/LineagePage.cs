using System.Text;
using System.Text.Json;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using k8s.Models;

namespace Cd4ml.Operator.Dashboard;

/// <summary>
/// Where what serves came from, per track: dataset (URI and digest) → TrainingRun attempt → ModelVersion (artifact
/// sha256) → the Deployment's track → the pods running it.
/// </summary>
public static class LineagePage
{
    public static string Render(DashboardData data, ModelDeployment deployment, IReadOnlyList<V1Pod> pods, JsonElement? monitoring,
        IReadOnlyList<string> readProblems, int refreshSeconds)
    {
        var ns = deployment.Metadata.NamespaceProperty;
        var status = deployment.Status;
        var body = new StringBuilder(Html.Problems(readProblems));
        body.Append($"<p class=\"muted\">Namespace {Html.Text(ns)} · {Html.DeploymentLink(ns, deployment.Metadata.Name)} · ")
            .Append($"model {Html.ModelLink(ns, deployment.Spec.ModelName)}</p>");
        var tracks = new[] { ("stable", status?.StableVersion), ("canary", status?.CanaryVersion) }
            .Where(t => t.Item2 is not null).ToList();
        if (tracks.Count == 0)
        {
            body.Append("<p class=\"placeholder\">Nothing is served yet.</p>");
        }

        foreach (var (track, versionName) in tracks)
        {
            var version = data.ModelVersion(ns, versionName!);
            var lineage = version?.Spec.Lineage;
            var run = lineage?.TrainingRun is { } runName ? data.TrainingRun(ns, runName) : null;
            var attempt = run?.Status?.History?.FirstOrDefault(a => a.Attempt == lineage?.Attempt);
            var trackPods = pods.Where(p => Label(p, ServingWorkloads.TrackLabel) == track).ToList();

            body.Append($"<section aria-labelledby=\"track-{track}\" data-track=\"{track}\"><h2 id=\"track-{track}\">{Html.Text(track)} track: {Html.Text(versionName)}</h2>")
                .Append("<ol class=\"lineage\">");
            body.Append($"<li data-step=\"dataset\"><strong>Dataset</strong> <code>{Html.Text(lineage?.DatasetUri ?? run?.Spec.Dataset.Uri)}</code>")
                .Append($" digest <code data-digest>{Html.Text(lineage?.DatasetDigest ?? attempt?.DatasetDigest)}</code></li>");
            body.Append($"<li data-step=\"training\"><strong>TrainingRun</strong> ")
                .Append(lineage?.TrainingRun is { } trainingRun
                    ? $"<a href=\"/dashboard/models/{Html.Url(ns)}/{Html.Url(deployment.Spec.ModelName)}#run-{Html.Url(trainingRun)}\">{Html.Text(trainingRun)}</a>"
                      + $" attempt <span data-attempt>#{lineage.Attempt}</span> {Html.Badge(attempt?.Phase)}"
                      + (lineage.Algorithm is { } algorithm ? $" · {Html.Text(algorithm)}" : "")
                    : "<span class=\"muted\">not recorded (registered by hand?)</span>")
                .Append("</li>");
            body.Append($"<li data-step=\"version\"><strong>ModelVersion</strong> {Html.Text(versionName)}")
                .Append(version is null
                    ? " <span class=\"muted\">not found</span>"
                    : $" (v{version.Spec.Version}) {Html.Badge(version.Status?.Phase)} artifact <code>{Html.Text(version.Spec.Artifact.Uri)}</code>"
                      + $" sha256 <code data-sha256>{Html.Text(version.Spec.Artifact.Sha256)}</code>")
                .Append("</li>");
            body.Append($"<li data-step=\"deployment\"><strong>Deployment</strong> {Html.Text(deployment.Metadata.Name)}, {Html.Text(track)} track")
                .Append(track == "canary" ? $" at {status?.CanaryWeight ?? 0}% of traffic" : "")
                .Append($" · pods selected by <code>{ServingWorkloads.DeploymentLabel}={Html.Text(deployment.Metadata.Name)},{ServingWorkloads.TrackLabel}={track}</code></li>");
            body.Append($"<li data-step=\"pods\"><strong>Pods</strong> ({trackPods.Count})");
            if (trackPods.Count > 0)
            {
                body.Append("<table class=\"pods\"><thead><tr><th scope=\"col\">Pod</th><th scope=\"col\">Phase</th>")
                    .Append("<th scope=\"col\">Ready</th><th scope=\"col\">Version label</th><th scope=\"col\">Node</th></tr></thead><tbody>");
                foreach (var pod in trackPods)
                {
                    var ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
                    body.Append($"<tr data-pod=\"{Html.Attr(pod.Metadata.Name)}\"><td>{Html.Text(pod.Metadata.Name)}</td>")
                        .Append($"<td>{Html.Badge(pod.Status?.Phase)}</td><td>{(ready ? "yes" : "no")}</td>")
                        .Append($"<td>{Html.Text(Label(pod, ServingWorkloads.VersionLabel))}</td>")
                        .Append($"<td>{Html.Text(pod.Spec?.NodeName)}</td></tr>");
                }

                body.Append("</tbody></table>");
            }

            body.Append("</li></ol></section>");
        }

        body.Append(MonitoringSection.Render(monitoring));
        return Html.Page($"Lineage of {deployment.Metadata.Name}", body.ToString(), refreshSeconds);
    }

    private static string? Label(V1Pod pod, string key) =>
        pod.Metadata.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;
}
