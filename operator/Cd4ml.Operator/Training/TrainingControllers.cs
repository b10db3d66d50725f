using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using Cd4ml.Runtime.Hosting;
using Cd4ml.Runtime.Metrics;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cd4ml.Operator.Training;

public static class TrainingControllers
{
    /// <summary>The TrainingRun controller; it owns its Jobs and watches the cd4ml Deployments runs name (retrainOn.drift, dataset.fromFeedback).</summary>
    public static ControllerManagerBuilder AddTrainingControllers(this ControllerManagerBuilder builder, OperatorOptions options)
    {
        // Shared with the registry controllers when both are added; the container disposes the cache with the host.
        builder.Services.TryAddSingleton(_ => new S3ClientCache());
        builder.Services.TryAddSingleton<PlatformDefaultsSource>();
        builder.Services.TryAddSingleton<StorageAccess>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        var watched = new WatchedDeployments();
        builder.Services.TryAddSingleton(watched);
        builder.Services.TryAddSingleton(provider => new TrainingMetrics(provider.GetRequiredService<RuntimeMetrics>().Registry));
        builder.AddController<TrainingRun, TrainingRunReconciler>(o => o
            .Owns<V1Job>()
            .Watches<ModelDeployment>(watched.RunsWatching)
            .Workers(options.Workers));
        return builder;
    }
}
