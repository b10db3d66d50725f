using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.S3;
using Amazon.S3.Model;
using Cd4ml.Testing;
using NUnit.Framework;

namespace Cd4ml.RealNode.Tests;

/// <summary>
/// The operator as a platform team installs it (<c>kubectl apply -k</c> of config/default with the locally built image:
/// config/test) and a data-science team uses it, all in real containers on the real node: training as a Job container,
/// model servers behind a ClusterIP Service, canary traffic split by kube-proxy, analysis in Prometheus, a rollback,
/// and the leader replica deleted mid-canary. The steps build on each other and run in order.
/// </summary>
[Order(1)]
public sealed partial class OperatorEndToEndTests
{
    private const string OperatorNamespace = "cd4ml-system";
    private const string Lease = "cd4ml-operator";
    private const string Mld = "sales-api";
    private const int Replicas = 4;
    private const int CanaryWeight = 50;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private RealNodeCluster node = null!;
    private string ns = null!;
    private string firstVersion = null!;
    private string modelUri = null!;
    private string modelSha256 = null!;
    private string predictionBody = null!;

    [OneTimeSetUp]
    public async Task StartNode()
    {
        node = await RealNodeSetup.NodeAsync();
        ns = $"e2e-{Guid.NewGuid():N}"[..12];
    }

    [OneTimeTearDown]
    public async Task RemoveEverything()
    {
        if (node is null)
        {
            return;
        }

        await node.KubectlAsync(null, "delete", "namespace", ns, "--ignore-not-found", "--wait=false");
        // Everything config/test installed except its Namespace: cd4ml-system belongs to the node (it also holds the S3
        // Service that Pods resolve as s3.cd4ml-system.svc), and deleting it broke every later test that uses S3 by name.
        var installed = (await node.KubectlAsync(null, "kustomize", RepositoryRoot.Combine("config", "test"))).Output;
        var withoutNamespace = string.Join("\n---\n", installed.Split("\n---\n")
            .Where(document => !document.Split('\n').Any(line => line.TrimEnd() == "kind: Namespace")));
        await node.KubectlAsync(withoutNamespace, "delete", "-f", "-", "--ignore-not-found", "--wait=false");
    }

    [Test]
    [Order(1)]
    public async Task Install_ConfigDefault_TwoReplicasBecomeReady_OneLeads_AndRolloutStatusCompletes()
    {
        var watch = Stopwatch.StartNew();
        await KubectlOk(null, "apply", "-k", RepositoryRoot.Combine("config", "test"));
        await WaitAsync(async () => (await node.KubectlAsync(null, "-n", OperatorNamespace, "rollout", "status",
            "deployment/cd4ml-operator", "--timeout=50s")).ExitCode == 0, "kubectl rollout status of the operator");
        TestContext.Out.WriteLine($"operator installed, 2/2 Ready in {watch.Elapsed.TotalSeconds:F0} s");

        var pods = await OperatorPodsAsync();
        Assert.That(pods, Has.Count.EqualTo(2));
        await WaitAsync(async () => pods.Contains(await LeaseHolderAsync()), "one operator replica holds the lease");
        foreach (var pod in pods)
        {
            var container = await KubectlJsonAsync("-n", OperatorNamespace, "get", "pod", pod);
            Assert.That(container.GetProperty("spec").GetProperty("serviceAccountName").GetString(), Is.EqualTo("cd4ml-operator"));
            Assert.That(container.GetProperty("spec").GetProperty("containers")[0].GetProperty("image").GetString(),
                Is.EqualTo(node.Image));
            Assert.That(container.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("ready").GetBoolean(), Is.True, pod);
        }

        var logs = await KubectlOk(null, "-n", OperatorNamespace, "logs", "deployment/cd4ml-operator", "--all-containers");
        Assert.That(logs, Does.Not.Contain("Forbidden").And.Not.Contain("Read-only file system"));
    }

    [Test]
    [Order(2)]
    public async Task TrainingRun_RunsAsAJobContainerUnderTheRestrictedProfile_AndRegistersAModelVersion()
    {
        await KubectlOk(null, "create", "namespace", ns);
        await KubectlOk($$"""
            apiVersion: v1
            kind: Secret
            metadata: { name: s3-credentials, namespace: {{ns}} }
            stringData: { AWS_ACCESS_KEY_ID: S3RVER, AWS_SECRET_ACCESS_KEY: S3RVER }
            """, "apply", "-f", "-");
        var dataset = await GenerateDatasetAsync();
        predictionBody = await PredictionBodyAsync(dataset);

        var watch = Stopwatch.StartNew();
        await KubectlOk($$"""
            apiVersion: cd4ml.io/v1alpha1
            kind: TrainingRun
            metadata: { name: sales, namespace: {{ns}} }
            spec:
              modelName: sales
              dataset:
                uri: {{dataset}}
                labelColumn: unit_sales
                columns:
                  - { name: date, type: Date }
                  - { name: store_nbr, type: Integer, min: 1 }
                  - { name: item_nbr, type: Integer, min: 1 }
                  - { name: family, type: String }
                  - { name: city, type: String }
                  - { name: onpromotion, type: Boolean }
                  - { name: perishable, type: Boolean }
                  - { name: holiday, type: Boolean }
                  - { name: unit_sales, type: Number }
                filters: [{ column: unit_sales, min: 0 }]
                split: { method: Time, timeColumn: date, validationFraction: 0.2 }
              storage: { secretRef: { name: s3-credentials }, endpoint: "{{S3PodEndpoint}}", forcePathStyle: true }
            """, "apply", "-f", "-");
        await WaitAsync(async () => await JsonPathAsync("tr", "sales", "{.status.phase}") is "Succeeded" or "Failed",
            "the TrainingRun to finish");
        TestContext.Out.WriteLine($"TrainingRun finished in {watch.Elapsed.TotalSeconds:F0} s");

        var run = await KubectlJsonAsync("-n", ns, "get", "tr", "sales");
        Assert.That(run.GetProperty("status").GetProperty("phase").GetString(), Is.EqualTo("Succeeded"), run.ToString());
        firstVersion = run.GetProperty("status").GetProperty("modelVersion").GetString()!;
        var trainer = await KubectlJsonAsync("-n", ns, "get", "pods", "-l", "cd4ml.io/training-run=sales");
        var pod = trainer.GetProperty("items")[0];
        Assert.That(pod.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("containerID").GetString(),
            Does.StartWith("containerd://"), "a real container, not a process");
        Assert.That(pod.GetProperty("spec").GetProperty("securityContext").GetProperty("runAsUser").GetInt64(), Is.EqualTo(65532));
        Assert.That(pod.GetProperty("spec").GetProperty("containers")[0].GetProperty("securityContext")
            .GetProperty("readOnlyRootFilesystem").GetBoolean(), Is.True);

        var version = await KubectlJsonAsync("-n", ns, "get", "mv", firstVersion);
        modelUri = version.GetProperty("spec").GetProperty("artifact").GetProperty("uri").GetString()!;
        modelSha256 = version.GetProperty("spec").GetProperty("artifact").GetProperty("sha256").GetString()!;
        await WaitAsync(async () => await JsonPathAsync("mv", firstVersion, "{.status.phase}") == "Ready", $"ModelVersion {firstVersion} Ready");
    }

    [Test]
    [Order(3)]
    public async Task Canary_SplitsRequestsThroughTheServiceClusterIp_CloseToTheSetWeight()
    {
        await KubectlOk(null, "-n", ns, "patch", "mv", firstVersion, "--type", "merge", "-p", """{"spec":{"approved":true}}""");
        var watch = Stopwatch.StartNew();
        await KubectlOk($$"""
            apiVersion: cd4ml.io/v1alpha1
            kind: Deployment
            metadata: { name: {{Mld}}, namespace: {{ns}} }
            spec:
              modelName: sales
              replicas: {{Replicas}}
              storage: { secretRef: { name: s3-credentials }, endpoint: "{{S3PodEndpoint}}", forcePathStyle: true }
              strategy:
                canary:
                  steps:
                    - setWeight: {{CanaryWeight}}
                    - pause: {}
                    - analysis: { duration: 20s }
                  analysis:
                    interval: 5s
                    window: 30s
                    prometheus: { address: "{{node.PrometheusPodUrl.ToString().TrimEnd('/')}}" }
                    metrics: [{ name: error-rate, builtin: ErrorRate, max: 0.05 }]
                    failureLimit: 1
                    inconclusiveLimit: 10
                    minSampleCount: 5
            """, "apply", "-f", "-");
        await WaitAsync(async () => await JsonPathAsync("mld", Mld, "{.status.phase}/{.status.stableVersion}") == $"Healthy/{firstVersion}",
            $"{Mld} Healthy on {firstVersion}");
        TestContext.Out.WriteLine($"{Replicas} model servers Ready in {watch.Elapsed.TotalSeconds:F0} s");

        await RegisterVersionAsync("sales-2", 2);
        await WaitForPauseAsync("sales-2");

        var (canary, total) = await CountTracksAsync(200);
        var canaryPods = int.Parse(await ReadyPodsAsync("canary"), CultureInfo.InvariantCulture);
        var stablePods = int.Parse(await ReadyPodsAsync("stable"), CultureInfo.InvariantCulture);
        var observed = 100.0 * canary / total;
        TestContext.Out.WriteLine($"canary weight set {CanaryWeight}%, pods {canaryPods} canary / {stablePods} stable, " +
                                  $"observed {observed:F1}% of {total} requests through the ClusterIP");
        Assert.That(total, Is.EqualTo(200), "every request answered");
        // 200 independent connections at p = 0.5: one standard deviation is 3.5 points; 15 points is > 4 of them.
        Assert.That(observed, Is.EqualTo(CanaryWeight).Within(15));
    }

    [Test]
    [Order(4)]
    public async Task LeaderPodDeletedMidCanary_TheOtherReplicaContinuesAtTheSameStep_WithoutScalingOrRestartingTheRollout()
    {
        var before = await RolloutSnapshotAsync();
        var leader = await LeaseHolderAsync();
        var standby = (await OperatorPodsAsync()).Single(p => p != leader);

        await KubectlOk(null, "-n", OperatorNamespace, "delete", "pod", leader, "--wait=false");
        var watch = Stopwatch.StartNew();
        // The released lease goes to whichever live replica asks first: usually the standby, but the ReplicaSet's
        // replacement for the deleted pod starts within a second on this node and may win the race. Either is a correct
        // hand-over; what matters is that the deleted leader is not it and that the rollout continues where it was.
        var successor = "";
        await WaitAsync(async () =>
        {
            successor = await LeaseHolderAsync();
            return successor != "" && successor != leader;
        }, $"a replica other than {leader} (the standby {standby} or its replacement) to take the lease");
        TestContext.Out.WriteLine($"{successor} leads {watch.Elapsed.TotalSeconds:F1} s after {leader} was deleted" +
                                  (successor == standby ? " (the standby)" : " (the deleted pod's replacement)"));
        Assert.That(await OperatorPodsAsync(), Does.Contain(successor), "the new leader is a live operator pod");
        await WaitAsync(async () => await ReconcilesAsync(successor) > 0, $"{successor} to reconcile the Deployment");

        // Resume the rollout through the new leader: the step it continues from must be the one the old leader left.
        Assert.That(await RolloutSnapshotAsync(), Is.EqualTo(before), "same step, step start, workloads and history");
        await WaitAsync(async () => (await node.KubectlAsync(null, "-n", OperatorNamespace, "rollout", "status",
            "deployment/cd4ml-operator", "--timeout=50s")).ExitCode == 0, "the operator back to 2/2 Ready");

        await KubectlOk(null, "-n", ns, "annotate", "mld", Mld, "cd4ml.io/promote=after-leader-change", "--overwrite");
        using var traffic = new CancellationTokenSource();
        var sending = SendTrafficAsync(traffic.Token);
        try
        {
            await WaitAsync(async () => await JsonPathAsync("mld", Mld, "{.status.phase}/{.status.stableVersion}") == "Healthy/sales-2",
                "sales-2 promoted after its analysis");
        }
        finally
        {
            await traffic.CancelAsync();
            await sending;
        }

        var history = await JsonPathAsync("mld", Mld, "{range .status.history[*]}{.version}={.outcome};{end}");
        Assert.That(history, Is.EqualTo($"{firstVersion}=Deployed;sales-2=Promoted;"), "one rollout of sales-2, never restarted");
    }

    [Test]
    [Order(5)]
    public async Task BadCanary_IsRolledBackAutomatically_AndTheServiceAnswersFromStableOnly()
    {
        // A canary that fails half its predictions, through the supported setting: spec.faultInjection reaches the canary
        // track only, and only when the platform allows it (the operator's CD4ML_ALLOW_FAULT_INJECTION).
        await KubectlOk(null, "-n", OperatorNamespace, "set", "env", "deployment/cd4ml-operator", "CD4ML_ALLOW_FAULT_INJECTION=true");
        await WaitAsync(async () => (await node.KubectlAsync(null, "-n", OperatorNamespace, "rollout", "status",
            "deployment/cd4ml-operator", "--timeout=50s")).ExitCode == 0, "the operator restarted with fault injection allowed");
        // The version serving now (sales-2 when the previous test promoted it) must still be serving after the rollback.
        var stableBefore = await JsonPathAsync("mld", Mld, "{.status.stableVersion}");
        Assert.That(stableBefore, Is.Not.Empty, "a stable version to roll back to");
        await KubectlOk(null, "-n", ns, "patch", "mld", Mld, "--type", "merge", "-p", """{"spec":{"faultInjection":{"errorRate":0.5}}}""");
        await RegisterVersionAsync("sales-3", 3);
        await WaitForPauseAsync("sales-3");
        var canaryEnv = await JsonPathAsync("deployment", $"{Mld}-canary",
            "{.spec.template.spec.containers[0].env[?(@.name==\"CD4ML_FAULT_ERROR_RATE\")].value}");
        Assert.That(canaryEnv, Is.EqualTo("0.5"), "the canary's pods carry the fault");
        Assert.That(await JsonPathAsync("deployment", $"{Mld}-stable",
            "{.spec.template.spec.containers[0].env[?(@.name==\"CD4ML_FAULT_ERROR_RATE\")].value}"), Is.Empty, "stable is never touched");

        var watch = Stopwatch.StartNew();
        await KubectlOk(null, "-n", ns, "annotate", "mld", Mld, "cd4ml.io/promote=bad-canary", "--overwrite");
        using var traffic = new CancellationTokenSource();
        var sending = SendTrafficAsync(traffic.Token);
        try
        {
            await WaitAsync(async () => await JsonPathAsync("mld", Mld, "{.status.phase}") == "Degraded", "the rollback of sales-3");
        }
        finally
        {
            await traffic.CancelAsync();
            await sending;
        }

        TestContext.Out.WriteLine($"rolled back {watch.Elapsed.TotalSeconds:F0} s after the analysis step started: " +
                                  await JsonPathAsync("mld", Mld, "{.status.abortReason}"));
        Assert.That(await JsonPathAsync("mld", Mld, "{.status.stableVersion}"), Is.EqualTo(stableBefore));
        Assert.That(await JsonPathAsync("mld", Mld, "{.status.abortReason}"), Does.Contain("error-rate"));
        await WaitAsync(async () => await ReadyPodsAsync("canary") is "" or "0" && await ServingPodsAsync("canary") == 0,
            "the canary pods gone");

        var (canary, total) = await CountTracksAsync(60);
        Assert.That((canary, total), Is.EqualTo((0, 60)), "every request answered by stable");
    }

    private string S3PodEndpoint => node.S3PodUrl.ToString().TrimEnd('/');

    private async Task<string> GenerateDatasetAsync()
    {
        var uri = $"s3://datasets/{ns}/sales.csv";
        await KubectlOk($$"""
            apiVersion: v1
            kind: Pod
            metadata: { name: dataset, namespace: {{ns}} }
            spec:
              restartPolicy: Never
              securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: RuntimeDefault } }
              containers:
                - name: generate
                  image: {{node.Image}}
                  args: [dataset, generate, --rows, "2000", --out, "{{uri}}"]
                  env:
                    - { name: CD4ML_S3_ENDPOINT, value: "{{S3PodEndpoint}}" }
                    - { name: CD4ML_S3_FORCE_PATH_STYLE, value: "true" }
                    - { name: AWS_ACCESS_KEY_ID, value: S3RVER }
                    - { name: AWS_SECRET_ACCESS_KEY, value: S3RVER }
                  resources: { requests: { cpu: 100m, memory: 128Mi } }
                  securityContext:
                    allowPrivilegeEscalation: false
                    readOnlyRootFilesystem: true
                    capabilities: { drop: [ALL] }
            """, "apply", "-f", "-");
        await WaitAsync(async () => await JsonPathAsync("pod", "dataset", "{.status.phase}") is "Succeeded" or "Failed",
            "the dataset Pod to finish");
        Assert.That(await JsonPathAsync("pod", "dataset", "{.status.phase}"), Is.EqualTo("Succeeded"),
            await KubectlOk(null, "-n", ns, "logs", "dataset"));
        return uri;
    }

    /// <summary>One row of the dataset without its label, as a /predict body (values as the CSV has them).</summary>
    private async Task<string> PredictionBodyAsync(string dataset)
    {
        using var s3 = new AmazonS3Client("S3RVER", "S3RVER", new AmazonS3Config { ServiceURL = node.S3Url.ToString(), ForcePathStyle = true });
        var key = dataset["s3://datasets/".Length..];
        using var response = await s3.GetObjectAsync(new GetObjectRequest { BucketName = "datasets", Key = key });
        using var reader = new StreamReader(response.ResponseStream);
        var header = (await reader.ReadLineAsync())!.Split(',');
        var row = (await reader.ReadLineAsync())!.Split(',');
        return JsonSerializer.Serialize(header.Zip(row).Where(c => c.First != "unit_sales").ToDictionary(c => c.First, c => c.Second));
    }

    /// <summary>A ModelVersion registered by hand (as a notebook-trained model would be) with the first run's artifact.</summary>
    private async Task RegisterVersionAsync(string name, int version)
    {
        await KubectlOk($$"""
            apiVersion: cd4ml.io/v1alpha1
            kind: ModelVersion
            metadata: { name: {{name}}, namespace: {{ns}} }
            spec:
              modelName: sales
              version: {{version}}
              artifact: { uri: "{{modelUri}}", sha256: "{{modelSha256}}" }
              task: Regression
              approved: true
              storage: { secretRef: { name: s3-credentials }, endpoint: "{{S3PodEndpoint}}", forcePathStyle: true }
            """, "apply", "-f", "-");
    }

    /// <summary>The canary of <paramref name="version"/> at its pause step with all pods of both tracks Ready.</summary>
    private async Task WaitForPauseAsync(string version)
    {
        await WaitAsync(async () => await JsonPathAsync("mld", Mld, "{.status.phase}/{.status.canaryVersion}/{.status.currentStep}") == $"Paused/{version}/1",
            $"the canary of {version} paused after setWeight {CanaryWeight}");
        foreach (var track in new[] { "stable", "canary" })
        {
            await WaitAsync(async () => (await node.KubectlAsync(null, "-n", ns, "rollout", "status", $"deployment/{Mld}-{track}",
                "--timeout=50s")).ExitCode == 0, $"{track} pods Ready");
        }
    }

    /// <summary>Sends <paramref name="count"/> predictions to the Service's ClusterIP, one connection each; counts canary answers.</summary>
    private async Task<(int Canary, int Total)> CountTracksAsync(int count)
    {
        await using var forward = await ForwardToServiceAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        int canary = 0, total = 0;
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(forward.Address, "/predict"))
            {
                Content = new StringContent(predictionBody, Encoding.UTF8, "application/json"),
            };
            request.Headers.ConnectionClose = true;
            using var response = await http.SendAsync(request);
            Assert.That(response.IsSuccessStatusCode, Is.True, await response.Content.ReadAsStringAsync());
            var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
            total++;
            if (answer.GetProperty("track").GetString() == "canary")
            {
                canary++;
            }
        }

        return (canary, total);
    }

    /// <summary>Predictions through the Service at about 20 per second until cancelled (what analysis measures).</summary>
    private async Task SendTrafficAsync(CancellationToken stop)
    {
        await using var forward = await ForwardToServiceAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(forward.Address, "/predict"))
                {
                    Content = new StringContent(predictionBody, Encoding.UTF8, "application/json"),
                };
                request.Headers.ConnectionClose = true;
                using var response = await http.SendAsync(request, stop);
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (HttpRequestException)
            {
                // A pod going away mid-request: the next request goes elsewhere.
            }
        }
    }

    private async Task<NamespaceForward> ForwardToServiceAsync()
    {
        var clusterIp = await JsonPathAsync("service", Mld, "{.spec.clusterIP}");
        return await node.ForwardAsync(clusterIp, 8080);
    }

    /// <summary>What must not change while leadership moves during a pause.</summary>
    private async Task<string> RolloutSnapshotAsync() =>
        await JsonPathAsync("mld", Mld, "{.status.canaryVersion} step={.status.currentStep} since={.status.stepStartTime} " +
                                         "weight={.status.canaryWeight} history={.status.history[*].outcome}") +
        $" canary={await JsonPathAsync("deployment", $"{Mld}-canary", "{.metadata.generation}/{.spec.replicas}")}" +
        $" stable={await JsonPathAsync("deployment", $"{Mld}-stable", "{.metadata.generation}/{.spec.replicas}")}";

    private Task<string> ReadyPodsAsync(string track) => JsonPathAsync("deployment", $"{Mld}-{track}", "{.status.readyReplicas}");

    private async Task<int> ServingPodsAsync(string track) =>
        (await KubectlJsonAsync("-n", ns, "get", "pods", "-l", $"cd4ml.io/deployment={Mld},cd4ml.io/track={track}"))
        .GetProperty("items").GetArrayLength();

    /// <summary>Reconciles of Deployments (cd4ml.io) by one operator replica, from its /metrics.</summary>
    private async Task<double> ReconcilesAsync(string pod)
    {
        var ip = await KubectlOk(null, "-n", OperatorNamespace, "get", "pod", pod, "-o", "jsonpath={.status.podIP}");
        var metrics = await node.RunInNamespaceAsync(["curl", "-sf", "--max-time", "5", $"http://{ip}:8080/metrics"]);
        return ReconcileLine().Matches(metrics.Output).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex("""^cd4ml_reconcile_total\{controller="modeldeployment"[^}]*\} (\S+)""", RegexOptions.Multiline)]
    private static partial Regex ReconcileLine();

    private async Task<List<string>> OperatorPodsAsync()
    {
        var pods = await KubectlJsonAsync("-n", OperatorNamespace, "get", "pods", "-l", "app.kubernetes.io/component=operator");
        return pods.GetProperty("items").EnumerateArray()
            .Where(p => !p.GetProperty("metadata").TryGetProperty("deletionTimestamp", out _))
            .Select(p => p.GetProperty("metadata").GetProperty("name").GetString()!).ToList();
    }

    private async Task<string> LeaseHolderAsync() =>
        (await node.KubectlAsync(null, "-n", OperatorNamespace, "get", "lease", Lease, "-o", "jsonpath={.spec.holderIdentity}")).Output;

    /// <summary>A JSONPath of one object in the test's namespace; empty while the object does not exist.</summary>
    private async Task<string> JsonPathAsync(string kind, string name, string path)
    {
        var result = await node.KubectlAsync(null, "-n", ns, "get", kind, name, "-o", $"jsonpath={path}");
        return result.ExitCode == 0 ? result.Output.Trim() : "";
    }

    private async Task<JsonElement> KubectlJsonAsync(params string[] arguments) =>
        JsonDocument.Parse(await KubectlOk(null, [.. arguments, "-o", "json"])).RootElement.Clone();

    private async Task<string> KubectlOk(string? stdin, params string[] arguments)
    {
        var result = await node.KubectlAsync(stdin, arguments);
        Assert.That(result.ExitCode, Is.Zero, $"kubectl {string.Join(' ', arguments)}: {result.All}");
        return result.Output;
    }

    private static Task WaitAsync(Func<Task<bool>> condition, string what) =>
        ControlPlane.WaitUntilAsync(condition, Patience, what);
}
