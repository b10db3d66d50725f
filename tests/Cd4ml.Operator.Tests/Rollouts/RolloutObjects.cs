using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using k8s.Models;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>The cluster objects a rollout plan is computed from, as the planner's pure tests build them.</summary>
internal static class RolloutObjects
{
    /// <summary>A validated, Ready ModelVersion <c>sales-v&lt;n&gt;</c> in namespace ml.</summary>
    public static ModelVersion Version(int n, bool approved = true) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"sales-v{n}", NamespaceProperty = "ml" },
        Spec = new ModelVersionSpec
        {
            ModelName = "sales", Version = n, Approved = approved,
            Artifact = new ArtifactSpec { Uri = $"s3://m/sales/{n}/model.zip", Sha256 = new string('a', 64) },
        },
        Status = new ModelVersionStatus { Phase = ModelVersionStatus.Ready, Validated = true },
    };

    /// <summary>A track Deployment that has rolled out <paramref name="replicas"/> Ready pods of <paramref name="version"/>.</summary>
    public static V1Deployment Track(string version, int replicas) => new()
    {
        Metadata = new V1ObjectMeta { Generation = 1 },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { [ServingWorkloads.VersionLabel] = version } },
            },
        },
        Status = new V1DeploymentStatus { ObservedGeneration = 1, Replicas = replicas, UpdatedReplicas = replicas, ReadyReplicas = replicas },
    };
}
