using System.CommandLine;
using Cd4ml.Operator;
using Microsoft.Extensions.Hosting;

namespace Cd4ml.Cli;

/// <summary>`cd4ml operator`: runs the controllers against a cluster until SIGTERM.</summary>
internal static class OperatorCommand
{
    public static Command Create()
    {
        var kubeconfig = new Option<string?>("--kubeconfig")
        {
            Description = "Kubeconfig file; default: in-cluster config, else $KUBECONFIG or ~/.kube/config",
        };
        var ns = new Option<string?>("--namespace", "-n") { Description = "Watch only this namespace (default: all)" };
        var watchNamespaces = new Option<string?>("--watch-namespaces")
        {
            Description = "Watch only these namespaces, comma-separated: ns1,ns2 (default: $CD4ML_WATCH_NAMESPACES, else all)",
        };
        var listen = new Option<string>("--listen")
        {
            Description = "Address of /metrics, /healthz and /readyz",
            DefaultValueFactory = _ => "http://0.0.0.0:8080",
        };
        var image = new Option<string?>("--image")
        {
            Description = "Image for training Jobs and model servers that name none (default: $CD4ML_IMAGE, the operator's own)",
        };
        var noLeaderElection = new Option<bool>("--no-leader-election")
        {
            Description = "Reconcile without a Lease (a single replica, local runs)",
        };
        var prometheus = new Option<string?>("--prometheus")
        {
            Description = "Prometheus for canary analysis when a Deployment names none (default: $CD4ML_PROMETHEUS_ADDRESS)",
        };
        var allowFaultInjection = new Option<bool>("--allow-fault-injection")
        {
            Description = "Honour spec.faultInjection of Deployments (demos, drills; default: $CD4ML_ALLOW_FAULT_INJECTION)",
        };
        var notifyWebhook = new Option<string?>("--notify-webhook")
        {
            Description = "Webhook for rollback, promotion, pause and failure notifications (default: $CD4ML_NOTIFY_WEBHOOK); "
                          + "a namespace's ConfigMap cd4ml-notifications overrides it",
        };
        var notifyFormat = new Option<string?>("--notify-format")
        {
            Description = "Notification body: json or slack (default: $CD4ML_NOTIFY_FORMAT, else json)",
        };
        var dashboard = new Option<bool>("--dashboard")
        {
            Description = "Serve the read-only dashboard at /dashboard on the --listen address (default: $CD4ML_DASHBOARD)",
        };
        var workers = new Option<int>("--workers") { Description = "Workers per controller", DefaultValueFactory = _ => 2 };
        var command = new Command("operator", "Run the CD4ML operator (TrainingRun, ModelVersion and Deployment controllers)")
        {
            kubeconfig, ns, watchNamespaces, listen, image, noLeaderElection, prometheus, allowFaultInjection, notifyWebhook, notifyFormat, dashboard, workers,
        };
        command.SetAction(async (parse, ct) =>
        {
            var defaults = new OperatorOptions();
            var options = defaults with
            {
                Kubeconfig = parse.GetValue(kubeconfig),
                Namespace = parse.GetValue(ns),
                WatchNamespaces = OperatorOptions.ParseNamespaces(parse.GetValue(watchNamespaces)) ?? defaults.WatchNamespaces,
                ListenUrl = parse.GetValue(listen)!,
                Image = parse.GetValue(image) ?? defaults.Image,
                LeaderElection = !parse.GetValue(noLeaderElection),
                PrometheusAddress = parse.GetValue(prometheus) ?? defaults.PrometheusAddress,
                AllowFaultInjection = parse.GetValue(allowFaultInjection) || defaults.AllowFaultInjection,
                NotifyWebhook = parse.GetValue(notifyWebhook) ?? defaults.NotifyWebhook,
                NotifyFormat = parse.GetValue(notifyFormat) ?? defaults.NotifyFormat,
                Dashboard = parse.GetValue(dashboard) || defaults.Dashboard,
                Workers = parse.GetValue(workers),
            };
            await using var app = OperatorHost.Build(options);
            await app.StartAsync(ct);
            await app.WaitForShutdownAsync(ct);
            return 0;
        });
        return command;
    }
}
