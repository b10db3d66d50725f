using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Registry;
using Cd4ml.Runtime.Hosting;
using k8s.Models;

namespace Cd4ml.Operator.Training;

public static class TrainingControllers
{
    /// <summary>The TrainingRun controller (owns its Jobs) and the ModelVersion registry controller (watches cd4ml Deployments for servedBy).</summary>
    public static ControllerManagerBuilder AddTrainingControllers(this ControllerManagerBuilder builder, OperatorOptions options)
    {
        builder.AddController<TrainingRun, TrainingRunReconciler>(o => o.Owns<V1Job>().Workers(options.Workers));
        var servedBy = new ServedByIndex();
        builder.AddController<ModelVersion, ModelVersionReconciler>(o => o
            .Watches<ModelDeployment>(servedBy.VersionsToReconcile)
            .Workers(options.Workers));
        return builder;
    }
}
