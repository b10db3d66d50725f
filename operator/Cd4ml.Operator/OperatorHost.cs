using Cd4ml.Operator.Dashboard;
using Cd4ml.Operator.Registry;
using Cd4ml.Operator.Notifications;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Hosting;
using Cd4ml.Runtime.LeaderElection;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Operator;

/// <summary>Builds the operator process: Kubernetes client, controller manager with every controller, endpoints.</summary>
public static class OperatorHost
{
    public static WebApplication Build(OperatorOptions options, Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.ListenUrl);
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        // Quiet by default: ASP.NET Core writes several Information lines per request, and Prometheus scrapes /metrics
        // every few seconds. Logging__LogLevel__Microsoft.AspNetCore brings them back.
        if (builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] is null)
        {
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        }

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton<IKubernetes>(_ => new Kubernetes(ClientConfiguration(options)));
        var controllers = services.AddControllerManager(new ControllerManagerOptions
        {
            Namespace = options.Namespace,
            Informers = new InformerOptions { Namespaces = options.WatchNamespaces },
            LeaderElection = new LeaderElectionOptions
            {
                Enabled = options.LeaderElection,
                LeaseNamespace = options.LeaseNamespace,
                Identity = options.Identity,
            },
        });
        // One line per controller group; each group lives in its own folder.
        controllers.AddTrainingControllers(options);
        controllers.AddRegistryControllers(options);
        controllers.AddRolloutControllers(options);
        services.AddNotifications(options);
        if (options.Dashboard)
        {
            services.AddDashboard();
        }

        configure?.Invoke(services);

        var app = builder.Build();
        app.MapOperatorEndpoints();
        if (options.Dashboard)
        {
            app.MapDashboard();
        }

        return app;
    }

    public static KubernetesClientConfiguration ClientConfiguration(OperatorOptions options)
    {
        if (options.Kubeconfig is not null)
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
        }

        return KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildDefaultConfig();
    }
}
