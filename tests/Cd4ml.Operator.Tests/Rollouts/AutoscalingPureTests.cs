using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>spec.autoscaling on its inputs alone: the HPA it asks for and how the canary is sized beside an autoscaled stable track.</summary>
public sealed class AutoscalingPureTests
{
    private static ModelDeployment Owner(AutoscalingSpec? autoscaling) => new()
    {
        Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = "ml", Uid = "uid" },
        Spec = new ModelDeploymentSpec { ModelName = "sales", Autoscaling = autoscaling },
    };

    [Test]
    public void Autoscaler_TargetsTheStableDeployment_WithCpu80WhenNoTargetIsGiven()
    {
        var hpa = ServingWorkloads.Autoscaler(Owner(new AutoscalingSpec { MaxReplicas = 5 }))!;

        Assert.That((hpa.Metadata.Name, hpa.Spec.ScaleTargetRef.Name, hpa.Spec.ScaleTargetRef.Kind),
            Is.EqualTo(("sales-stable", "sales-stable", "Deployment")));
        Assert.That((hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas), Is.EqualTo(((int?)1, 5)));
        Assert.That(hpa.Spec.Metrics.Single().Resource.Target.AverageUtilization, Is.EqualTo(80));
        Assert.That(hpa.Metadata.OwnerReferences.Single().Uid, Is.EqualTo("uid"));
        Assert.That(ServingWorkloads.Autoscaler(Owner(null)), Is.Null);
    }

    [Test]
    public void Autoscaler_WithOnlyARequestsTarget_ScalesOnRequestsPerSecondAlone()
    {
        var hpa = ServingWorkloads.Autoscaler(Owner(new AutoscalingSpec { MaxReplicas = 5, TargetRequestsPerSecond = 12.5 }))!;

        var metric = hpa.Spec.Metrics.Single();
        Assert.That((metric.Type, metric.Pods.Metric.Name, metric.Pods.Target.AverageValue.ToString()),
            Is.EqualTo(("Pods", "cd4ml_requests_per_second", "12500m")));
    }

    [TestCase(4, 50, false, 4, TestName = "By pod count, 50% beside 4 stable pods is 4 canary pods")]
    [TestCase(4, 20, false, 1, TestName = "By pod count, 20% beside 4 stable pods is 1 canary pod")]
    [TestCase(4, 100, false, 4, TestName = "By pod count, 100% is capped at as many canary pods as stable")]
    [TestCase(4, 50, true, 2, TestName = "With an HTTPRoute, 50% of 4 stable pods is 2 canary pods")]
    [TestCase(4, 0, false, 0, TestName = "Weight 0 is no canary pods")]
    public void ForAutoscaled_StableStaysAsTheHpaSetIt_AndTheCanaryFollowsTheWeight(int stable, int weight, bool routed, int canary)
    {
        var split = ReplicaSplit.ForAutoscaled(stable, weight, routed);

        Assert.That((split.Stable, split.Canary), Is.EqualTo((stable, canary)));
    }
}
