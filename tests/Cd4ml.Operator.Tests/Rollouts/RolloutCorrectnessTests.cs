using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>The pure parts of issue 15's rollout fixes: isolation, effective weights, spec checks, restored templates.</summary>
public sealed class RolloutCorrectnessTests
{
    private static ModelDeployment Owner(string name, FaultInjection? fault = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "ml", Uid = "uid-" + name },
        Spec = new ModelDeploymentSpec { ModelName = "sales", FaultInjection = fault },
    };

    private static ModelVersion Version(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "ml" },
        Spec = new ModelVersionSpec
        {
            ModelName = "sales", Version = 2, Artifact = new ArtifactSpec { Uri = "s3://m/sales/2/model.zip", Sha256 = new string('a', 64) },
        },
    };

    [Test]
    public void BuiltinQueries_SelectTheirOwnDeployment_NotOnlyModelVersionAndTrack()
    {
        var target = new QueryTarget("ml", "sales-b", "sales", "sales-v2", "canary");
        var window = TimeSpan.FromSeconds(30);
        foreach (var query in new[]
                 {
                     AnalysisQueries.ErrorRate(target, window), AnalysisQueries.LatencyP99(target, window),
                     AnalysisQueries.SampleCount(target, window),
                 })
        {
            Assert.That(query, Does.Contain("{deployment=\"sales-b\",model=\"sales\",version=\"sales-v2\",track=\"canary\""));
        }
    }

    [TestCase("stable")]
    [TestCase("canary")]
    public void EveryModelServerPod_IsToldItsDeployment_ForTheDeploymentLabelOnItsSeries(string track)
    {
        var env = ServingWorkloads.Deployment(Owner("sales-b"), Version("sales-v2"), track, 1, "img").Spec.Template.Spec
            .Containers[0].Env.ToDictionary(e => e.Name, e => e.Value);
        Assert.That(env["CD4ML_DEPLOYMENT"], Is.EqualTo("sales-b"));
    }

    [Test]
    public void FaultInjection_BecomesTheServersFaultVariables_OnlyWhereGiven()
    {
        var fault = new FaultInjection { ErrorRate = 0.5, Latency = "1m0.2s" };
        var owner = Owner("sales", fault);
        var canary = ServingWorkloads.Deployment(owner, Version("sales-v2"), ServingWorkloads.Canary, 1, "img", fault)
            .Spec.Template.Spec.Containers[0].Env.ToDictionary(e => e.Name, e => e.Value);
        Assert.That(canary["CD4ML_FAULT_ERROR_RATE"], Is.EqualTo("0.5"));
        Assert.That(canary["CD4ML_FAULT_LATENCY"], Is.EqualTo("60200ms"), "the server reads one unit");
        var stable = ServingWorkloads.Deployment(owner, Version("sales-v1"), ServingWorkloads.Stable, 1, "img")
            .Spec.Template.Spec.Containers[0].Env;
        Assert.That(stable.Select(e => e.Name), Has.None.StartsWith("CD4ML_FAULT_"));
    }

    [TestCase(1, 25, 1, 1, 50)]
    [TestCase(4, 20, 3, 1, 25)]
    [TestCase(4, 25, 3, 1, 25)]
    [TestCase(3, 50, 1, 2, 67)]
    [TestCase(2, 0, 2, 0, 0)]
    [TestCase(0, 50, 0, 0, 0)]
    public void CanaryPercent_IsItsShareOfThePods(int replicas, int weight, int stable, int canary, int percent)
    {
        var split = ReplicaSplit.For(replicas, weight);
        Assert.That((split.Stable, split.Canary, split.CanaryPercent), Is.EqualTo((stable, canary, percent)));
    }

    [TestCase(25, 1, 4)]
    [TestCase(20, 4, 5)]
    [TestCase(50, 2, 2)]
    [TestCase(33, 1, 3)]
    public void ReplicasFor_IsTheFewestReplicasThatSplitAWeightExactly(int weight, int replicas, int expected) =>
        Assert.That(ReplicaSplit.ReplicasFor(weight, replicas), Is.EqualTo(expected));

    [Test]
    public void SpecValidation_RefusesFaultInjection_UnlessTheOperatorAllowsIt()
    {
        var spec = new ModelDeploymentSpec { ModelName = "sales", FaultInjection = new FaultInjection { ErrorRate = 0.5 } };
        var problem = SpecValidation.Problems(spec, faultInjectionAllowed: false).Single();
        Assert.That(problem.Reason, Is.EqualTo(SpecValidation.FaultInjectionNotAllowed));
        Assert.That(problem.Message, Does.Contain("spec.faultInjection").And.Contain("--allow-fault-injection"));
        Assert.That(SpecValidation.Problems(spec, faultInjectionAllowed: true), Is.Empty);
    }

    [Test]
    public void SpecValidation_FindsWhatAnOlderSchemaLetThrough_NamingEachField()
    {
        var spec = new ModelDeploymentSpec
        {
            ModelName = "sales",
            Strategy = new RolloutStrategy
            {
                Canary = new CanaryStrategy
                {
                    Steps = [],
                    Analysis = new AnalysisSpec
                    {
                        Interval = "0s",
                        Metrics =
                        [
                            new AnalysisMetric { Name = "both", Builtin = BuiltinMetric.ErrorRate, Query = "up", Max = 1 },
                            new AnalysisMetric { Name = "unbounded", Builtin = BuiltinMetric.LatencyP99 },
                        ],
                    },
                },
            },
        };

        var problems = SpecValidation.Problems(spec, false);
        Assert.That(problems.Select(p => p.Reason), Is.EqualTo(new[] { "NoSteps", "InvalidDuration", "InvalidMetric", "InvalidMetric" }));
        Assert.That(problems[1].Message, Does.StartWith("spec.strategy.canary.analysis.interval is '0s'"));
        Assert.That(problems[2].Message, Does.Contain("metrics[0] (both): set exactly one of builtin and query"));
        Assert.That(problems[3].Message, Does.Contain("metrics[1] (unbounded): set a threshold"));
        Assert.That(SpecValidation.Problems(new ModelDeploymentSpec { ModelName = "sales" }, false), Is.Empty, "defaults are valid");
    }

    [Test]
    public void DesiredFields_IgnoreServerDefaults_ButSeeEditedAddedAndRemovedFields()
    {
        var desired = ServingWorkloads.Deployment(Owner("sales"), Version("sales-v2"), ServingWorkloads.Canary, 1, "img").Spec.Template;
        desired.Spec.Containers[0].Resources = new V1ResourceRequirements
        {
            Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("1000m") },
        };
        V1PodTemplateSpec Live()
        {
            var live = k8s.KubernetesJson.Deserialize<V1PodTemplateSpec>(k8s.KubernetesJson.Serialize(desired));
            live.Spec.Containers[0].ReadinessProbe.TimeoutSeconds = 1;
            live.Spec.Containers[0].TerminationMessagePath = "/dev/termination-log";
            live.Spec.Containers[0].Resources.Limits["cpu"] = new ResourceQuantity("1");
            live.Spec.RestartPolicy = "Always";
            live.Metadata.Annotations["kubectl.kubernetes.io/restartedAt"] = "2026-11-30T16:00:00Z";
            return live;
        }

        Assert.That(DesiredFields.AreKeptIn(desired, Live()), Is.True, "server defaults and a restart annotation");

        var image = Live();
        image.Spec.Containers[0].Image = "other";
        var value = Live();
        value.Spec.Containers[0].Env.Single(e => e.Name == "CD4ML_TRACK").Value = "stable";
        var added = Live();
        added.Spec.Containers[0].Env.Add(new V1EnvVar { Name = "CD4ML_FAULT_ERROR_RATE", Value = "1" });
        var removed = Live();
        removed.Metadata.Labels.Remove(ServingWorkloads.VersionLabel);
        foreach (var edited in new[] { image, value, added, removed })
        {
            Assert.That(DesiredFields.AreKeptIn(desired, edited), Is.False);
        }
    }
}
