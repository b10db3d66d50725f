using Cd4ml.Testing;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Api.Tests;

/// <summary>Proves the test control plane is complete: controllers turn Jobs and Deployments into Pods.</summary>
public sealed class ControlPlaneHarnessTests
{
    private static V1PodTemplateSpec Template(string app, string restartPolicy) => new()
    {
        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = app } },
        Spec = new V1PodSpec
        {
            RestartPolicy = restartPolicy,
            Containers = [new V1Container { Name = "main", Image = "busybox", Command = ["true"] }],
        },
    };

    [Test]
    public async Task Job_GetsAPodFromTheJobController()
    {
        var plane = await ControlPlane.SharedAsync();
        var ns = await plane.CreateNamespaceAsync("harness");
        using var client = plane.CreateClient();
        await client.BatchV1.CreateNamespacedJobAsync(new V1Job
        {
            Metadata = new V1ObjectMeta { Name = "job" },
            Spec = new V1JobSpec { Template = Template("job", "Never") },
        }, ns);

        await ControlPlane.WaitUntilAsync(async () =>
            (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "job-name=job")).Items.Count == 1,
            TimeSpan.FromSeconds(60), "a Pod for the Job");
    }

    [Test]
    public async Task Deployment_GetsReplicaSetAndPods_AndTheyAreCollectedWithIt()
    {
        var plane = await ControlPlane.SharedAsync();
        var ns = await plane.CreateNamespaceAsync("harness");
        using var client = plane.CreateClient();
        await client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1DeploymentSpec
            {
                Replicas = 2,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
                Template = Template("web", "Always"),
            },
        }, ns);

        await ControlPlane.WaitUntilAsync(async () =>
            (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app=web")).Items.Count == 2,
            TimeSpan.FromSeconds(60), "two Pods for the Deployment");

        await client.AppsV1.DeleteNamespacedDeploymentAsync("web", ns,
            new V1DeleteOptions { PropagationPolicy = "Background" });
        await ControlPlane.WaitUntilAsync(async () =>
            (await client.AppsV1.ListNamespacedReplicaSetAsync(ns)).Items.Count == 0,
            TimeSpan.FromSeconds(60), "garbage collection of the ReplicaSet");
    }
}
