using Cd4ml.Api.V1Alpha1;

namespace Cd4ml.Kubectl;

/// <summary>The three kinds the plugin shows, by the names kubectl accepts for them.</summary>
public enum ResourceKind
{
    TrainingRun,
    ModelVersion,
    Deployment,
}

public static class ResourceKinds
{
    private static readonly Dictionary<string, ResourceKind> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["tr"] = ResourceKind.TrainingRun,
        ["trainingrun"] = ResourceKind.TrainingRun,
        ["trainingruns"] = ResourceKind.TrainingRun,
        ["trainingrun.cd4ml.io"] = ResourceKind.TrainingRun,
        ["trainingruns.cd4ml.io"] = ResourceKind.TrainingRun,
        ["mv"] = ResourceKind.ModelVersion,
        ["modelversion"] = ResourceKind.ModelVersion,
        ["modelversions"] = ResourceKind.ModelVersion,
        ["modelversion.cd4ml.io"] = ResourceKind.ModelVersion,
        ["modelversions.cd4ml.io"] = ResourceKind.ModelVersion,
        ["mld"] = ResourceKind.Deployment,
        ["deployment"] = ResourceKind.Deployment,
        ["deployments"] = ResourceKind.Deployment,
        ["deployment.cd4ml.io"] = ResourceKind.Deployment,
        ["deployments.cd4ml.io"] = ResourceKind.Deployment,
    };

    public const string Accepted = "tr (trainingruns), mv (modelversions) or mld (deployments.cd4ml.io)";

    public static ResourceKind Parse(string text) =>
        Aliases.TryGetValue(text, out var kind)
            ? kind
            : throw new PluginException($"unknown kind \"{text}\": use {Accepted}");

    /// <summary>The name kubectl prints in errors and messages, e.g. deployments.cd4ml.io.</summary>
    public static string Resource(this ResourceKind kind) => kind switch
    {
        ResourceKind.TrainingRun => $"{TrainingRun.Plural}.{ApiGroup.Group}",
        ResourceKind.ModelVersion => $"{ModelVersion.Plural}.{ApiGroup.Group}",
        _ => $"{ModelDeployment.Plural}.{ApiGroup.Group}",
    };
}
