using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// A Deployment's canary analysis with the platform template it names: the template is the base, every field the
/// Deployment sets wins, and metrics merge by name (a Deployment metric replaces the template's of the same name, the
/// others are added after the template's). Pure; never touches the Deployment's spec.
/// </summary>
public static class AnalysisTemplates
{
    public const string UnknownTemplateReason = "UnknownAnalysisTemplate";
    public const string Field = "spec.strategy.canary.analysis.template";

    /// <summary>The analysis to run, or (with the Deployment's own) why its template cannot be used.</summary>
    public static (AnalysisSpec? Analysis, SpecProblem? Problem) Resolve(AnalysisSpec? own,
        IReadOnlyDictionary<string, AnalysisSpec>? templates)
    {
        if (own?.Template is not { Length: > 0 } name)
        {
            return (own, null);
        }

        if (templates is null || !templates.TryGetValue(name, out var template))
        {
            var known = templates is { Count: > 0 } ? $"known templates: {string.Join(", ", templates.Keys.Order())}" : "none is defined";
            return (own, new SpecProblem(UnknownTemplateReason,
                $"{Field} names template {name}, which is not defined ({known}): define it in key " +
                $"{PlatformDefaults.AnalysisTemplatesKey} of ConfigMap {PlatformDefaults.ConfigMapName} in this namespace " +
                $"(or the operator's {PlatformDefaults.Keys[PlatformDefaults.AnalysisTemplatesKey]}), or name a known one"));
        }

        return (Merge(template, own), null);
    }

    /// <summary>The template with the Deployment's fields over it.</summary>
    public static AnalysisSpec Merge(AnalysisSpec template, AnalysisSpec own) => new()
    {
        Template = own.Template,
        Interval = own.Interval ?? template.Interval,
        Window = own.Window ?? template.Window,
        Prometheus = own.Prometheus ?? template.Prometheus,
        Metrics = MergeMetrics(template.Metrics, own.Metrics),
        FailureLimit = own.FailureLimit ?? template.FailureLimit,
        InconclusiveLimit = own.InconclusiveLimit ?? template.InconclusiveLimit,
        ErrorLimit = own.ErrorLimit ?? template.ErrorLimit,
        MinSampleCount = own.MinSampleCount ?? template.MinSampleCount,
    };

    private static List<AnalysisMetric>? MergeMetrics(List<AnalysisMetric>? template, List<AnalysisMetric>? own)
    {
        if (template is null || own is null)
        {
            return own ?? template;
        }

        var replaced = own.Select(m => m.Name).ToHashSet();
        return [.. template.Select(m => replaced.Contains(m.Name) ? own.First(o => o.Name == m.Name) : m),
            .. own.Where(m => !template.Any(t => t.Name == m.Name))];
    }
}
