using Cd4ml.Api.V1Alpha1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cd4ml.Kubectl.Views;

/// <summary>A ModelVersion with its approval, artifact, metrics, lineage and the Deployments serving it.</summary>
public static class ModelVersionTree
{
    /// <summary>One line for a version inside another tree, e.g. a TrainingRun's attempt.</summary>
    public static string Line(ModelVersion version)
    {
        var line = $"ModelVersion {Format.Name(version.Metadata.Name)}  v{version.Spec.Version}  {Format.Phase(version.Status?.Phase)}  "
                   + Approval(version);
        if (version.Status?.ServedBy is { Count: > 0 } servedBy)
        {
            line += $"  served by {Format.Escape(string.Join(", ", servedBy))}";
        }

        return line;
    }

    public static IRenderable Render(ModelVersion version)
    {
        var tree = new Tree($"{Line(version)}  model {Format.Escape(version.Spec.ModelName)}");
        var artifact = $"artifact {Format.Escape(version.Spec.Artifact.Uri)}  {Format.Escape(Format.ShortDigest(version.Spec.Artifact.Sha256))}";
        if (version.Status?.Validated is { } validated)
        {
            artifact += validated ? $"  {Format.Passed} validated" : $"  {Format.Failed} not validated";
        }

        tree.AddNode(artifact);
        tree.AddNode("metrics  " + Format.Metrics(version.Spec.Metrics));
        if (version.Spec.Lineage is { } lineage)
        {
            var node = tree.AddNode($"lineage  run {Format.Escape(lineage.TrainingRun)} attempt {lineage.Attempt}");
            node.AddNode($"dataset {Format.Escape(lineage.DatasetUri)}  {Format.Escape(Format.ShortDigest(lineage.DatasetDigest))}");
            var parameters = lineage.Parameters is { Count: > 0 } p
                ? "  " + string.Join("  ", p.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{Format.Escape(kv.Key)}={Format.Escape(kv.Value)}"))
                : "";
            node.AddNode($"algorithm {Format.Escape(lineage.Algorithm ?? "(default)")}{parameters}");
            if (!string.IsNullOrEmpty(lineage.Image))
            {
                node.AddNode($"image {Format.Escape(lineage.Image)}");
            }
        }

        foreach (var condition in version.Status?.Conditions.Where(c => c.Status != "True") ?? [])
        {
            tree.AddNode($"[yellow]{Format.Escape(condition.Type)}={Format.Escape(condition.Status)}[/] "
                         + $"{Format.Escape(condition.Reason)}: {Format.Escape(condition.Message)}");
        }

        return tree;
    }

    private static string Approval(ModelVersion version) =>
        version.Spec.Approved == true ? $"{Format.Passed} approved" : "[yellow]○[/] not approved";
}
