using Cd4ml.Api.V1Alpha1;
using Cd4ml.Kubectl.Views;
using Cd4ml.Runtime.Entities;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Kubectl.Tests;

/// <summary>The Deployment tree for states the cluster tests do not set up.</summary>
public sealed class DeploymentTreeTests
{
    [Test]
    public void ADeploymentWithNothingToServe_SaysWhy()
    {
        var deployment = new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = "sales-api" },
            Spec = new ModelDeploymentSpec { ModelName = "sales" },
            Status = new ModelDeploymentStatus
            {
                Phase = ModelDeploymentStatus.Pending,
                Conditions = [new Condition { Type = "Ready", Status = Condition.False, Reason = "NoModelVersion", Message = "no approved ModelVersion of model sales" }],
            },
        };

        var text = Render(DeploymentTree.Render(deployment, null, null));

        Assert.That(text, Is.EqualTo("Deployment sales-api  model sales  Pending\n└── not ready (NoModelVersion): no approved ModelVersion of model sales\n"));
    }

    [Test]
    public void APausedCanary_ShowsThePauseReason()
    {
        var deployment = Samples.CanaryInAnalysis();
        deployment.Status!.Phase = ModelDeploymentStatus.Paused;
        deployment.Status.Conditions.RemoveAll(c => c.Type == "Paused");
        deployment.Status.Conditions.Add(new Condition
        {
            Type = "Paused", Status = Condition.True, Reason = "AnalysisInconclusive",
            Message = "3 inconclusive measurements (inconclusiveLimit 3); set cd4ml.io/retry to analyse again or cd4ml.io/promote to skip the step",
        });

        var text = Render(DeploymentTree.Render(deployment, new TrackPods(3, 3), new TrackPods(1, 0)));

        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("stable  sales-1  pods 3/3 ready  weight 80%"));
            Assert.That(text, Does.Contain("canary  sales-2  pods 0/1 ready  weight 20%  step 2/4 analysis"));
            Assert.That(text, Does.Contain("⏸ paused (AnalysisInconclusive): 3 inconclusive measurements (inconclusiveLimit 3); set cd4ml.io/retry"));
        });
    }

    private static string Render(Spectre.Console.Rendering.IRenderable renderable)
    {
        var output = new StringWriter();
        PluginConsole.Plain(output, TextWriter.Null).Console.Write(renderable);
        return output.ToString().Replace("\r\n", "\n");
    }
}
