using System.CommandLine;
using System.Text.Json;
using Cd4ml.Api;
using Cd4ml.Api.Schema;
using Cd4ml.LocalCluster;
using Cd4ml.Operator;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Hosting;

namespace Cd4ml.Cli;

/// <summary>
/// `cd4ml local`: a local embedded cluster for machines without one — a real control plane, the local kubelet
/// (Pods run as processes of this same CLI) and the operator, until Ctrl-C.
/// </summary>
internal static class LocalCommand
{
    public static Command Create()
    {
        var kubeconfigOut = new Option<string>("--kubeconfig-out")
        {
            Description = "Where to copy the admin kubeconfig of the local cluster",
            DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "cd4ml-local-kubeconfig"),
        };
        var targets = new Option<string?>("--scrape-targets")
        {
            Description = "File-based service discovery file (Prometheus file_sd) to keep listing the model servers in",
        };
        var prometheus = new Option<string?>("--prometheus") { Description = "Prometheus address for canary analysis" };
        var listen = new Option<string>("--listen")
        {
            Description = "Address of the operator's /metrics, /healthz and /readyz",
            DefaultValueFactory = _ => "http://127.0.0.1:8080",
        };
        var command = new Command("local", "Run a local embedded cluster (control plane, local kubelet) with the operator")
        {
            kubeconfigOut, targets, prometheus, listen,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(kubeconfigOut)!, parse.GetValue(targets),
            parse.GetValue(prometheus), parse.GetValue(listen)!, ct));
        return command;
    }

    private static async Task<int> RunAsync(string kubeconfigOut, string? targetsFile, string? prometheus, string listen,
        CancellationToken ct)
    {
        Console.WriteLine("starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler)…");
        await using var plane = await LocalControlPlane.StartAsync(ct: ct);
        using var client = plane.CreateClient();
        foreach (var crd in ApiKinds.All.Select(CrdGenerator.Generate))
        {
            try
            {
                await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, cancellationToken: ct);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
            }
        }

        await using var kubelet = await LocalKubelet.StartAsync(client, new LocalKubeletOptions
        {
            Cd4mlCliPath = typeof(LocalCommand).Assembly.Location,
            LogDirectory = Path.Combine(plane.LogDirectory, "pods"),
            ScrapeTargetsChanged = targetsFile is null ? null : list => WriteTargetsAsync(targetsFile, list),
        }, ct);

        var app = OperatorHost.Build(new OperatorOptions
        {
            Kubeconfig = plane.KubeconfigPath,
            LeaderElection = false,
            ListenUrl = listen,
            Image = "cd4ml",
            PrometheusAddress = prometheus,
        });
        await app.StartAsync(ct);
        File.Copy(plane.KubeconfigPath, kubeconfigOut, overwrite: true);
        Console.WriteLine($"""
            local cluster ready: {plane.ServerUrl}
              export KUBECONFIG={kubeconfigOut}
              kubectl get cd4ml -A
            operator endpoints: {listen}/metrics, /healthz, /readyz
            logs: {plane.LogDirectory} (Pods under pods/)
            Ctrl-C stops everything.
            """);
        try
        {
            await app.WaitForShutdownAsync(ct);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }

        return 0;
    }

    private static async Task WriteTargetsAsync(string path, IReadOnlyList<ScrapeTarget> targets)
    {
        var json = JsonSerializer.Serialize(targets.Select(t => new { targets = new[] { t.Address }, labels = t.Labels }));
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, json);
        File.Move(temporary, path, overwrite: true);
    }
}
