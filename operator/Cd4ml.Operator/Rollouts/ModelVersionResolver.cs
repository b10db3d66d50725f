using Cd4ml.Api.V1Alpha1;

namespace Cd4ml.Operator.Rollouts;

/// <summary>Which ModelVersion a Deployment should serve.</summary>
public static class ModelVersionResolver
{
    /// <summary>
    /// The pinned version of the model when spec.version is set, else the highest approved one; either way only a
    /// version whose artifact was validated (phase Ready) and that is not being deleted.
    /// </summary>
    public static ModelVersion? Desired(ModelDeploymentSpec spec, IEnumerable<ModelVersion> versions)
    {
        var candidates = versions.Where(v => v.Spec.ModelName == spec.ModelName
                                             && v.Status?.Phase == ModelVersionStatus.Ready
                                             && v.Metadata.DeletionTimestamp is null);
        return spec.Version is { } pinned
            ? candidates.Where(v => v.Spec.Version == pinned).MinBy(v => v.Metadata.Name, StringComparer.Ordinal)
            : candidates.Where(v => v.Spec.Approved == true)
                .OrderByDescending(v => v.Spec.Version)
                .ThenBy(v => v.Metadata.Name, StringComparer.Ordinal)
                .FirstOrDefault();
    }

    /// <summary>Why nothing can be served yet, for the Pending condition.</summary>
    public static string WhyNone(ModelDeploymentSpec spec) => spec.Version is { } pinned
        ? $"no Ready ModelVersion of model {spec.ModelName} with version {pinned}"
        : $"no approved and Ready ModelVersion of model {spec.ModelName}";
}
