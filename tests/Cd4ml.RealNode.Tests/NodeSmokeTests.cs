using Cd4ml.Testing;
using NUnit.Framework;

namespace Cd4ml.RealNode.Tests;

/// <summary>The real node works as a cluster does: containers from the project's image, logs, exec, Services.</summary>
public sealed class NodeSmokeTests
{
    private RealNodeCluster node = null!;
    private string ns = null!;

    [OneTimeSetUp]
    public async Task StartNode()
    {
        node = await RealNodeSetup.NodeAsync();
        ns = $"smoke-{Guid.NewGuid():N}"[..14];
        await KubectlOk(null, "create", "namespace", ns);
        await WaitAsync(async () => (await node.KubectlAsync(null, "-n", ns, "get", "serviceaccount", "default")).ExitCode == 0,
            "the namespace's default ServiceAccount");
    }

    [OneTimeTearDown]
    public async Task DeleteNamespace()
    {
        if (ns is not null && node is not null)
        {
            await node.KubectlAsync(null, "delete", "namespace", ns, "--wait=false");
        }
    }

    [Test]
    public async Task Node_IsReady()
    {
        var ready = await KubectlOk(null, "get", "node", "cd4ml-node", "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}");
        Assert.That(ready, Is.EqualTo("True"));
    }

    [Test]
    public async Task ProjectImage_RunsTheCli_AsItsNonRootUser_AndKubectlLogsShowsTheOutput()
    {
        await KubectlOk($$"""
            apiVersion: v1
            kind: Pod
            metadata: { name: cli-help, namespace: {{ns}} }
            spec:
              restartPolicy: Never
              containers:
                - { name: cli, image: {{node.Image}}, args: [--help] }
            """, "apply", "-f", "-");
        await WaitAsync(async () => await KubectlOk(null, "-n", ns, "get", "pod", "cli-help", "-o", "jsonpath={.status.phase}") is "Succeeded" or "Failed",
            "pod cli-help to finish");

        Assert.That(await KubectlOk(null, "-n", ns, "get", "pod", "cli-help", "-o", "jsonpath={.status.phase}"), Is.EqualTo("Succeeded"));
        var logs = await KubectlOk(null, "-n", ns, "logs", "cli-help");
        Assert.That(logs, Does.Contain("cd4ml").And.Contain("operator").And.Contain("train").And.Contain("serve"));
    }

    [Test]
    public async Task KubectlExec_RunsInTheContainer_AsTheImagesUser_WithClusterDns()
    {
        await KubectlOk($$"""
            apiVersion: v1
            kind: Pod
            metadata: { name: shell, namespace: {{ns}} }
            spec:
              terminationGracePeriodSeconds: 1
              containers:
                - { name: shell, image: {{node.Image}}, command: [sleep, "3600"] }
            """, "apply", "-f", "-");
        await WaitForReadyAsync("shell");

        var id = await KubectlOk(null, "-n", ns, "exec", "shell", "--", "id", "-u");
        var app = await KubectlOk(null, "-n", ns, "exec", "shell", "--", "ls", "/app");
        var s3 = await KubectlOk(null, "-n", ns, "exec", "shell", "--", "getent", "hosts", "s3.cd4ml-system.svc");
        var s3ClusterIp = await KubectlOk(null, "-n", "cd4ml-system", "get", "service", "s3", "-o", "jsonpath={.spec.clusterIP}");
        Assert.That(id.Trim(), Is.EqualTo("65532"));
        Assert.That(app, Does.Contain("cd4ml.dll"));
        Assert.That(s3.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], Is.EqualTo(s3ClusterIp));
    }

    /// <summary>
    /// The operator from the project's image reaches the apiserver in-cluster (through the <c>kubernetes</c> Service)
    /// and serves /healthz behind its own ClusterIP Service, from the node's namespace and forwarded to loopback.
    /// </summary>
    [Test]
    public async Task ClusterIpService_RoutesToThePod_AndPodsReachTheApiServerThroughTheKubernetesService()
    {
        await KubectlOk(null, "apply", "-k", RepositoryRoot.Combine("crds"));
        await KubectlOk($$"""
            apiVersion: v1
            kind: ServiceAccount
            metadata: { name: operator, namespace: {{ns}} }
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: { name: {{ns}}-operator }
            roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
            subjects: [{ kind: ServiceAccount, name: operator, namespace: {{ns}} }]
            ---
            apiVersion: v1
            kind: Pod
            metadata: { name: operator, namespace: {{ns}}, labels: { app: smoke-operator } }
            spec:
              serviceAccountName: operator
              containers:
                - name: operator
                  image: {{node.Image}}
                  args: [operator, --namespace, {{ns}}, --no-leader-election, --listen, "http://0.0.0.0:8080"]
                  ports: [{ name: http, containerPort: 8080 }]
                  readinessProbe: { httpGet: { path: /healthz, port: http }, periodSeconds: 1 }
            ---
            apiVersion: v1
            kind: Service
            metadata: { name: operator, namespace: {{ns}} }
            spec:
              selector: { app: smoke-operator }
              ports: [{ port: 80, targetPort: http }]
            """, "apply", "-f", "-");
        try
        {
            await WaitForReadyAsync("operator");
            var clusterIp = await KubectlOk(null, "-n", ns, "get", "service", "operator", "-o", "jsonpath={.spec.clusterIP}");

            // Ready is not yet routable: kube-proxy programs the ClusterIP once it sees the new Endpoints (as on any
            // cluster), so give it a bounded moment before asserting what the Service answers.
            var fromNode = await node.RunInNamespaceAsync(["curl", "-sf", "--max-time", "5", $"http://{clusterIp}/healthz"]);
            for (var attempt = 0; attempt < 30 && fromNode.ExitCode != 0; attempt++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                fromNode = await node.RunInNamespaceAsync(["curl", "-sf", "--max-time", "5", $"http://{clusterIp}/healthz"]);
            }

            await using var forward = await node.ForwardAsync(clusterIp, 80);
            using var http = new HttpClient();
            var fromLoopback = await http.GetStringAsync(new Uri(forward.Address, "/healthz"));
            var operatorLog = await KubectlOk(null, "-n", ns, "logs", "operator");

            Assert.That(fromNode.ExitCode, Is.Zero, fromNode.All);
            Assert.That(fromNode.Output.Trim(), Is.EqualTo("ok"));
            Assert.That(fromLoopback.Trim(), Is.EqualTo("ok"));
            Assert.That(operatorLog, Does.Not.Contain("Forbidden").And.Not.Contain("Unhandled exception"));
        }
        finally
        {
            await node.KubectlAsync(null, "delete", "clusterrolebinding", $"{ns}-operator", "--ignore-not-found");
        }
    }

    private async Task<string> KubectlOk(string? stdin, params string[] arguments)
    {
        var result = await node.KubectlAsync(stdin, arguments);
        Assert.That(result.ExitCode, Is.Zero, $"kubectl {string.Join(' ', arguments)}: {result.All}");
        return result.Output;
    }

    private Task WaitForReadyAsync(string pod) => WaitAsync(async () => await KubectlOk(null, "-n", ns, "get", "pod", pod, "-o",
        "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}") == "True", $"pod {pod} Ready");

    private static Task WaitAsync(Func<Task<bool>> condition, string what) =>
        ControlPlane.WaitUntilAsync(condition, TimeSpan.FromMinutes(3), what);
}
