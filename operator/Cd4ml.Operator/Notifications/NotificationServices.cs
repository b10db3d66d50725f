using Cd4ml.Runtime.Events;
using Cd4ml.Runtime.Metrics;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Operator.Notifications;

public static class NotificationServices
{
    /// <summary>
    /// Sends webhooks for notifiable events: decorates the runtime's <see cref="IEventRecorder"/> so those events are
    /// also queued, and runs the <see cref="NotificationSender"/>. Call after AddControllerManager.
    /// </summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, OperatorOptions options)
    {
        var platform = NotificationTarget.FromOptions(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new NotificationDelivery());
        services.TryAddSingleton(provider => new NotificationMetrics(provider.GetRequiredService<RuntimeMetrics>().Registry));
        services.TryAddSingleton(provider => new NotificationQueue(provider.GetRequiredService<NotificationMetrics>()));
        services.TryAddSingleton(provider => new NotificationTargets(provider.GetRequiredService<IKubernetes>(), platform,
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<NotificationTargets>>()));
        services.AddHostedService<NotificationSender>();
        // Decorate whatever recorder the controller manager registered, however it builds it.
        var recorder = services.Last(d => d.ServiceType == typeof(IEventRecorder));
        services.Remove(recorder);
        services.AddSingleton<IEventRecorder>(provider => new NotifyingEventRecorder(Resolve(recorder, provider),
            provider.GetRequiredService<NotificationQueue>(), provider.GetRequiredService<TimeProvider>()));
        return services;
    }

    private static IEventRecorder Resolve(ServiceDescriptor descriptor, IServiceProvider provider) =>
        (IEventRecorder)(descriptor.ImplementationInstance
                         ?? descriptor.ImplementationFactory?.Invoke(provider)
                         ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!));
}
