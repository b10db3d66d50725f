using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cd4ml.Operator.Registry;

public static class RegistryControllers
{
    /// <summary>
    /// The ModelVersion controller: validates artifacts and keeps servedBy current, so it watches cd4ml Deployments.
    /// </summary>
    public static ControllerManagerBuilder AddRegistryControllers(this ControllerManagerBuilder builder, OperatorOptions options)
    {
        // Shared with the training controllers when both are added; the container disposes the cache with the host.
        builder.Services.TryAddSingleton(_ => new S3ClientCache());
        builder.Services.TryAddSingleton<PlatformDefaultsSource>();
        builder.Services.TryAddSingleton<StorageAccess>();
        return builder.AddController<ModelVersion, ModelVersionReconciler>(o => o
            .Watches<ModelDeployment>(ModelVersionReconciler.VersionsServedBy)
            .Workers(options.Workers));
    }
}
