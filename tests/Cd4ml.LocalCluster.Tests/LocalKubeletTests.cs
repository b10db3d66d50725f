using System.Text;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.LocalCluster.Tests;

/// <summary>The local kubelet seen from the API, the way controllers see a real one.</summary>
public sealed class LocalKubeletTests
{
    private ControlPlane plane = null!;
    private IKubernetes client = null!;
    private LocalKubelet kubelet = null!;
    private string ns = "";

    [OneTimeSetUp]
    public async Task StartKubelet()
    {
        plane = await ControlPlane.SharedAsync();
        client = plane.CreateClient();
        kubelet = await LocalKubelet.StartAsync(client, new LocalKubeletOptions { MaxProbePeriod = TimeSpan.FromSeconds(1) });
    }

    [OneTimeTearDown]
    public async Task StopKubelet()
    {
        await kubelet.DisposeAsync();
        client.Dispose();
        await ControlPlane.StopSharedAsync(keepLogs: TestContext.CurrentContext.Result.FailCount > 0);
    }

    [SetUp]
    public async Task FreshNamespace() => ns = await plane.CreateNamespaceAsync("kubelet");

    private static V1Job Job(string name, string script, int backoffLimit = 0) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1JobSpec
        {
            BackoffLimit = backoffLimit,
            Template = new V1PodTemplateSpec
            {
                Spec = new V1PodSpec
                {
                    RestartPolicy = "Never",
                    Containers =
                    [
                        new V1Container
                        {
                            Name = "main", Image = "debian", Command = ["sh", "-c", script],
                            Env = [new V1EnvVar { Name = "GREETING", Value = "hello" }, new V1EnvVar { Name = "POD", ValueFrom = new V1EnvVarSource
                            {
                                FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" },
                            } }],
                        },
                    ],
                },
            },
        },
    };

    private async Task<V1Job> WaitForJobAsync(string name, string condition)
    {
        V1Job job = null!;
        await ControlPlane.WaitUntilAsync(async () =>
        {
            job = await client.BatchV1.ReadNamespacedJobAsync(name, ns);
            return job.Status?.Conditions?.Any(c => c.Type == condition && c.Status == "True") == true;
        }, TimeSpan.FromSeconds(60), $"Job {name} {condition}");
        return job;
    }

    private async Task<V1Pod> SinglePodAsync(string selector) =>
        (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector)).Items.Single();

    [Test]
    public async Task Job_RunsAsProcess_CompletesWithTerminationMessageAndResolvedEnvironment()
    {
        await client.BatchV1.CreateNamespacedJobAsync(
            Job("ok", "echo \"$GREETING from $POD\" > \"$CD4ML_TERMINATION_LOG\""), ns);

        await WaitForJobAsync("ok", "Complete");
        var pod = await SinglePodAsync("job-name=ok");
        var terminated = pod.Status.ContainerStatuses.Single().State.Terminated;
        Assert.Multiple(() =>
        {
            Assert.That(pod.Status.Phase, Is.EqualTo("Succeeded"));
            Assert.That(pod.Spec.NodeName, Is.EqualTo(kubelet.NodeName), "bound by the real scheduler");
            Assert.That(terminated.ExitCode, Is.Zero);
            Assert.That(terminated.Reason, Is.EqualTo("Completed"));
            Assert.That(terminated.Message, Is.EqualTo($"hello from {pod.Metadata.Name}\n"));
        });
    }

    [Test]
    public async Task FailingJob_ReportsExitCodeAndLogTail_AndTheJobControllerMarksItFailed()
    {
        var job = Job("bad", "echo something broke >&2; exit 3");
        job.Spec.Template.Spec.Containers[0].TerminationMessagePolicy = "FallbackToLogsOnError";
        await client.BatchV1.CreateNamespacedJobAsync(job, ns);

        await WaitForJobAsync("bad", "Failed");
        var pod = await SinglePodAsync("job-name=bad");
        var terminated = pod.Status.ContainerStatuses.Single().State.Terminated;
        Assert.Multiple(() =>
        {
            Assert.That(pod.Status.Phase, Is.EqualTo("Failed"));
            Assert.That(terminated.ExitCode, Is.EqualTo(3));
            Assert.That(terminated.Reason, Is.EqualTo("Error"));
            Assert.That(terminated.Message, Does.Contain("something broke"));
        });
    }

    [Test]
    public async Task MissingSecret_LeavesContainerWaitingWithCreateContainerConfigError()
    {
        var job = Job("nosecret", "true");
        job.Spec.Template.Spec.Containers[0].Env.Add(new V1EnvVar { Name = "KEY", ValueFrom = new V1EnvVarSource
        {
            SecretKeyRef = new V1SecretKeySelector { Key = "AWS_ACCESS_KEY_ID", Name = "missing" },
        } });
        await client.BatchV1.CreateNamespacedJobAsync(job, ns);

        V1ContainerStateWaiting? waiting = null;
        await ControlPlane.WaitUntilAsync(async () =>
        {
            var pods = await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "job-name=nosecret");
            waiting = pods.Items.SingleOrDefault()?.Status?.ContainerStatuses?.SingleOrDefault()?.State?.Waiting;
            return waiting?.Reason == "CreateContainerConfigError";
        }, TimeSpan.FromSeconds(30), "CreateContainerConfigError");
        Assert.That(waiting!.Message, Is.EqualTo("secret \"missing\" not found"));
    }

    [Test]
    public async Task Deployment_PodsGetOwnLoopbackAddresses_BecomeReadyByProbe_AndStopWhenDeleted()
    {
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        await client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1DeploymentSpec
            {
                Replicas = 2,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "web", Image = "python",
                                Command = ["python3", "-m", "http.server", "--bind", "$(POD_IP)", "8080"],
                                Env = [new V1EnvVar { Name = "POD_IP", ValueFrom = new V1EnvVarSource
                                {
                                    FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" },
                                } }],
                                Ports = [new V1ContainerPort { ContainerPort = 8080, Name = "http" }],
                                ReadinessProbe = new V1Probe
                                {
                                    HttpGet = new V1HTTPGetAction { Path = "/", Port = "http" },
                                    PeriodSeconds = 1,
                                },
                            },
                        ],
                    },
                },
            },
        }, ns);

        await ControlPlane.WaitUntilAsync(async () =>
            (await client.AppsV1.ReadNamespacedDeploymentAsync("web", ns)).Status?.ReadyReplicas == 2,
            TimeSpan.FromSeconds(60), "2 ready replicas");
        var pods = (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app=web")).Items;
        var addresses = pods.Select(p => p.Status.PodIP).ToList();
        Assert.That(addresses.Distinct().Count(), Is.EqualTo(2));
        Assert.That(addresses, Has.All.StartsWith("127."));
        using var http = new HttpClient();
        foreach (var address in addresses)
        {
            Assert.That((await http.GetAsync($"http://{address}:8080/")).IsSuccessStatusCode, Is.True);
        }

        await client.AppsV1.DeleteNamespacedDeploymentAsync("web", ns, new V1DeleteOptions { PropagationPolicy = "Foreground" });
        await ControlPlane.WaitUntilAsync(async () =>
            (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app=web")).Items.Count == 0,
            TimeSpan.FromSeconds(60), "pods deleted");
        Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://{addresses[0]}:8080/"),
            "the process must stop with its pod");
    }

    [Test]
    public async Task CrashingContainer_IsRestartedWithBackoff_AndReportsCrashLoop()
    {
        var labels = new Dictionary<string, string> { ["app"] = "crash" };
        await client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "crash" },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        Containers = [new V1Container { Name = "c", Image = "debian", Command = ["sh", "-c", "exit 1"] }],
                    },
                },
            },
        }, ns);

        await ControlPlane.WaitUntilAsync(async () =>
        {
            var pod = (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app=crash")).Items.SingleOrDefault();
            return pod?.Status?.ContainerStatuses?.Single().RestartCount >= 2;
        }, TimeSpan.FromSeconds(60), "two restarts");
        var status = (await SinglePodAsync("app=crash")).Status.ContainerStatuses.Single();
        Assert.That(status.LastState.Terminated?.ExitCode ?? status.State.Terminated?.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void VariableReferences_ExpandLikeKubernetes()
    {
        var env = new Dictionary<string, string> { ["A"] = "1" };
        Assert.That(PodRunnerExpand("x-$(A)-$(B)-$$(A)", env), Is.EqualTo("x-1-$(B)-$(A)"));
    }

    private static string PodRunnerExpand(string text, Dictionary<string, string> env) =>
        (string)typeof(LocalKubelet).Assembly.GetType("Cd4ml.LocalCluster.PodRunner")!
            .GetMethod("Expand", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .Invoke(null, [text, env])!;
}
