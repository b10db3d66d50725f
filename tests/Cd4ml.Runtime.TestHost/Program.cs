// A minimal Widget operator: `--kubeconfig PATH --namespace NS --identity ID [--lease NAME]`.
// Reconciles Widgets in NS, writing status.handledBy = ID, with leader election on a Lease in NS.
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Hosting;
using Cd4ml.Runtime.LeaderElection;
using Cd4ml.Runtime.Status;
using Cd4ml.Runtime.TestHost;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var arguments = args.Chunk(2).ToDictionary(pair => pair[0].TrimStart('-'), pair => pair[1]);
var identity = arguments["identity"];
var @namespace = arguments["namespace"];

var builder = Host.CreateApplicationBuilder();
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
builder.Services.AddSingleton<IKubernetes>(new Kubernetes(
    KubernetesClientConfiguration.BuildConfigFromConfigFile(arguments["kubeconfig"])));
builder.Services.AddSingleton(new WidgetIdentity(identity));
builder.Services
    .AddControllerManager(new ControllerManagerOptions
    {
        Name = "widget-test-operator",
        Namespace = @namespace,
        LeaderElection = new LeaderElectionOptions
        {
            Identity = identity,
            LeaseNamespace = @namespace,
            LeaseName = arguments.GetValueOrDefault("lease", "widget-operator"),
        },
    })
    .AddController<Widget, HandledByReconciler>();

await builder.Build().RunAsync();
return 0;

internal sealed record WidgetIdentity(string Value);

internal sealed class HandledByReconciler(IKubernetes kubernetes, WidgetIdentity identity) : IReconciler<Widget>
{
    private readonly StatusWriter<Widget> status = new(kubernetes);

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest<Widget> request, CancellationToken ct)
    {
        if (request.Entity is null)
        {
            return ReconcileResult.Done();
        }

        await status.UpdateAsync(request.Entity, w =>
        {
            var s = w.EnsureStatus();
            s.HandledBy = identity.Value;
            s.ObservedSize = w.Spec.Size;
        }, ct);
        Console.WriteLine($"reconciled {request.Key} by {identity.Value}");
        return ReconcileResult.Done();
    }
}
