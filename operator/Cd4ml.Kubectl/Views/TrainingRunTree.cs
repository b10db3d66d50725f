using Cd4ml.Api.V1Alpha1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cd4ml.Kubectl.Views;

/// <summary>TrainingRun → attempts (newest first) → the ModelVersion each registered, with metrics and gates.</summary>
public static class TrainingRunTree
{
    public static IRenderable Render(TrainingRun run, IReadOnlyList<ModelVersion> versions)
    {
        var status = run.Status;
        var header = $"TrainingRun {Format.Name(run.Metadata.Name)}  model {Format.Escape(run.Spec.ModelName)}  "
                     + Format.Phase(status?.Phase);
        if (!string.IsNullOrEmpty(status?.GatesSummary))
        {
            header += $"  gates {Format.Escape(status.GatesSummary)}";
        }

        var tree = new Tree(header);
        var digest = status?.DatasetDigest ?? status?.Dataset?.Digest;
        tree.AddNode($"dataset {Format.Escape(run.Spec.Dataset.Uri)}"
                     + (digest is null ? "" : $"  {Format.Escape(Format.ShortDigest(digest))}"));

        foreach (var attempt in Attempts(status))
        {
            var current = attempt.Attempt == status?.Attempt;
            var node = tree.AddNode(AttemptLine(attempt));
            if (current)
            {
                if (status!.Metrics is { Count: > 0 })
                {
                    node.AddNode("metrics  " + Format.Metrics(status.Metrics));
                }

                if (status.Gates is { Count: > 0 })
                {
                    var gates = node.AddNode("gates");
                    foreach (var gate in status.Gates)
                    {
                        gates.AddNode(GateLine(gate));
                    }
                }
            }

            var registered = versions
                .Where(v => v.Spec.Lineage?.TrainingRun == run.Metadata.Name && v.Spec.Lineage?.Attempt == attempt.Attempt)
                .OrderBy(v => v.Spec.Version);
            foreach (var version in registered)
            {
                node.AddNode(ModelVersionTree.Line(version));
            }
        }

        var notReady = status?.Conditions.FirstOrDefault(c => c.Type == "Ready" && c.Status == "False");
        if (notReady is not null && status?.Phase != TrainingRunStatus.Succeeded)
        {
            tree.AddNode($"[yellow]{Format.Escape(notReady.Reason)}[/]: {Format.Escape(notReady.Message)}");
        }

        return tree;
    }

    /// <summary>status.history holds the current attempt too; a run without history yet shows its current attempt.</summary>
    private static IEnumerable<AttemptRecord> Attempts(TrainingRunStatus? status)
    {
        var history = status?.History ?? [];
        if (status?.Attempt is { } attempt && history.All(h => h.Attempt != attempt))
        {
            history = [.. history, new AttemptRecord
            {
                Attempt = attempt, JobName = status.JobName, Phase = status.Phase, Headline = status.Headline,
                ModelVersion = status.ModelVersion, DatasetDigest = status.DatasetDigest,
            }];
        }

        return history.OrderByDescending(h => h.Attempt);
    }

    private static string AttemptLine(AttemptRecord attempt)
    {
        var line = $"attempt {attempt.Attempt}  {Format.Phase(attempt.Phase)}";
        if (!string.IsNullOrEmpty(attempt.Headline))
        {
            line += $"  {Format.Escape(attempt.Headline)}";
        }

        if (!string.IsNullOrEmpty(attempt.JobName))
        {
            line += $"  job {Format.Escape(attempt.JobName)}";
        }

        if (!string.IsNullOrEmpty(attempt.DatasetDigest))
        {
            line += $"  dataset {Format.Escape(Format.ShortDigest(attempt.DatasetDigest))}";
        }

        if (!string.IsNullOrEmpty(attempt.Reason))
        {
            line += $"  {Format.Dim(attempt.Reason)}";
        }

        return line;
    }

    private static string GateLine(GateResult gate)
    {
        var value = gate.Value is { } v ? Format.Number(v) : "no value";
        var line = $"{(gate.Passed ? Format.Passed : Format.Failed)} {Format.Escape(gate.Metric)} {Operator(gate.Comparison)} "
                   + $"{Format.Number(gate.Threshold)}  (got {value})";
        return gate.Passed || string.IsNullOrEmpty(gate.Message) ? line : $"{line}  {Format.Escape(gate.Message)}";
    }

    private static string Operator(string comparison) => comparison switch
    {
        nameof(Comparison.LessThan) => "<",
        nameof(Comparison.LessThanOrEqual) => "≤",
        nameof(Comparison.GreaterThan) => ">",
        nameof(Comparison.GreaterThanOrEqual) => "≥",
        _ => Format.Escape(comparison),
    };
}
