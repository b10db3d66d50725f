using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using Cd4ml.Runtime.Hosting;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cd4ml.Operator.Training;

public static class TrainingControllers
{
    /// <summary>The TrainingRun controller; it owns its Jobs.</summary>
    public static ControllerManagerBuilder AddTrainingControllers(this ControllerManagerBuilder builder, OperatorOptions options)
    {
        // Shared with the registry controllers when both are added; the container disposes the cache with the host.
        builder.Services.TryAddSingleton(_ => new S3ClientCache());
        builder.Services.TryAddSingleton<PlatformDefaultsSource>();
        builder.Services.TryAddSingleton<StorageAccess>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.AddController<TrainingRun, TrainingRunReconciler>(o => o.Owns<V1Job>().Workers(options.Workers));
        return builder;
    }
}
