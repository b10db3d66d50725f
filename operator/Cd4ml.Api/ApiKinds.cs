using Cd4ml.Api.V1Alpha1;

namespace Cd4ml.Api;

/// <summary>Every kind this API serves; the CRD generator and the operator iterate it.</summary>
public static class ApiKinds
{
    public static IReadOnlyList<Type> All { get; } = [typeof(TrainingRun), typeof(ModelVersion), typeof(ModelDeployment)];
}
