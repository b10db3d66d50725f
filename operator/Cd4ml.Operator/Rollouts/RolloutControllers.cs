using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Hosting;
using Cd4ml.Runtime.Metrics;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cd4ml.Operator.Rollouts;

public static class RolloutControllers
{
    /// <summary>The cd4ml.io Deployment controller: serves ModelVersions and rolls new ones out as analysed canaries.</summary>
    public static ControllerManagerBuilder AddRolloutControllers(this ControllerManagerBuilder builder, OperatorOptions options)
    {
        var index = new ModelDeploymentIndex();
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(index);
        services.TryAddSingleton<PlatformDefaultsSource>();
        services.TryAddSingleton(provider => new RolloutMetrics(provider.GetRequiredService<RuntimeMetrics>().Registry));
        services.TryAddSingleton(_ => new PrometheusClient(new HttpClient { Timeout = TimeSpan.FromSeconds(10) }));
        services.TryAddSingleton(provider =>
            new RolloutCache(() => provider.GetRequiredService<ControllerManager>().Informers));
        return builder.AddController<ModelDeployment, ModelDeploymentReconciler>(o => Wire(o, index, options.Workers));
    }

    /// <summary>
    /// What wakes the controller: its Deployment, the apps/v1 Deployments and Services it owns, ModelVersions, and the
    /// HTTPRoutes it sets weights in (so an edit to them is put right at once). HTTPRoute is optional: Gateway API's
    /// CRDs may not be installed, and the controller must run without them.
    /// </summary>
    public static ControllerOptions<ModelDeployment> Wire(ControllerOptions<ModelDeployment> options,
        ModelDeploymentIndex index, int workers) => options
        .Named("modeldeployment")
        .Owns<V1Deployment>()
        .Owns<V1Service>()
        .Watches<ModelVersion>(index.DeploymentsFor)
        .WatchesOptional<HttpRoute>(index.DeploymentsFor)
        .Workers(workers);
}
