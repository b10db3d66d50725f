using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Events;
using Cd4ml.Runtime.Metrics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Runtime.Hosting;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="ControllerManager"/> as a hosted service, plus <see cref="RuntimeMetrics"/>, an
    /// <see cref="IEventRecorder"/> and the manager's <see cref="InformerRegistry"/>, which reconcilers take to read
    /// the caches of the kinds they watch. Needs an <see cref="IKubernetes"/> registration.
    /// </summary>
    public static ControllerManagerBuilder AddControllerManager(this IServiceCollection services,
        ControllerManagerOptions options)
    {
        var builder = new ControllerManagerBuilder(services);
        services.TryAddSingleton(_ => new RuntimeMetrics());
        services.AddSingleton(options);
        services.AddSingleton(provider => new InformerRegistry(provider.GetRequiredService<IKubernetes>(),
            options.Namespace, provider.GetRequiredService<RuntimeMetrics>(), provider.GetRequiredService<ILoggerFactory>(),
            options.Informers));
        services.AddSingleton(provider =>
        {
            var manager = new ControllerManager(provider.GetRequiredService<IKubernetes>(), options,
                provider.GetRequiredService<RuntimeMetrics>(), provider.GetRequiredService<ILoggerFactory>(),
                provider.GetRequiredService<InformerRegistry>());
            foreach (var register in builder.Registrations)
            {
                register(provider, manager);
            }

            return manager;
        });
        services.AddHostedService(provider => provider.GetRequiredService<ControllerManager>());
        services.TryAddSingleton<IEventRecorder>(provider => new EventRecorder(provider.GetRequiredService<IKubernetes>(),
            options.Name, options.LeaderElection.Identity, provider.GetRequiredService<ILogger<EventRecorder>>(),
            provider.GetService<TimeProvider>()));
        return builder;
    }
}

/// <summary>Adds controllers whose reconcilers come from dependency injection.</summary>
public sealed class ControllerManagerBuilder(IServiceCollection services)
{
    internal List<Action<IServiceProvider, ControllerManager>> Registrations { get; } = [];

    public IServiceCollection Services => services;

    public ControllerManagerBuilder AddController<TEntity, TReconciler>(Action<ControllerOptions<TEntity>>? configure = null)
        where TEntity : class, IKubernetesObject<V1ObjectMeta>
        where TReconciler : class, IReconciler<TEntity>
    {
        services.TryAddSingleton<TReconciler>();
        Registrations.Add((provider, manager) =>
            manager.AddController(provider.GetRequiredService<TReconciler>(), configure));
        return this;
    }
}
