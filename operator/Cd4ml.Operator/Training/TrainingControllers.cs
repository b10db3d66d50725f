using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Registry;
using Cd4ml.Runtime.Hosting;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cd4ml.Operator.Training;

public static class TrainingControllers
{
    /// <summary>The TrainingRun controller (owns its Jobs) and the ModelVersion registry controller (watches cd4ml Deployments for servedBy).</summary>
    public static ControllerManagerBuilder AddTrainingControllers(this ControllerManagerBuilder builder, OperatorOptions options)
    {
        // One S3 client cache for both controllers; the container disposes it (and its clients) with the host.
        builder.Services.TryAddSingleton(_ => new S3ClientCache());
        builder.Services.TryAddSingleton<PlatformDefaultsSource>();
        builder.Services.TryAddSingleton<StorageAccess>();
        builder.AddController<TrainingRun, TrainingRunReconciler>(o => o.Owns<V1Job>().Workers(options.Workers));
        var servedBy = new ServedByIndex();
        builder.AddController<ModelVersion, ModelVersionReconciler>(o => o
            .Watches<ModelDeployment>(servedBy.VersionsToReconcile)
            .Workers(options.Workers));
        return builder;
    }
}
