using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Operator.Training;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.PodSecurity;

/// <summary>
/// Every Pod the operator creates, and the operator's own, pass the Pod Security Standard <c>restricted</c> and run as
/// uid 65532 with a read-only root filesystem, a writable /tmp (TMPDIR) and resource requests.
/// </summary>
public sealed class PodSecurityTests
{
    private static readonly OperatorOptions Options = new() { Image = "ghcr.io/cd4ml/cd4ml:test" };

    private static TrainingRun Run(Action<TrainingRunSpec>? configure = null)
    {
        var run = new TrainingRun
        {
            Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = "ml", Uid = "uid-1" },
            Spec = new TrainingRunSpec
            {
                ModelName = "sales-model",
                Dataset = new DatasetSpec { Uri = "s3://data/sales.csv", LabelColumn = "unit_sales" },
                Storage = new S3StorageSpec { SecretRef = new SecretReference { Name = "s3" }, Endpoint = "http://minio:9000" },
            },
        };
        configure?.Invoke(run.Spec);
        return run;
    }

    private static V1PodSpec ModelServerPod(string track, Action<ModelDeploymentSpec>? configure = null)
    {
        var owner = new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = "sales-api", NamespaceProperty = "ml", Uid = "uid-2" },
            Spec = new ModelDeploymentSpec { ModelName = "sales-model" },
        };
        configure?.Invoke(owner.Spec);
        var version = new ModelVersion
        {
            Metadata = new V1ObjectMeta { Name = "sales-1", NamespaceProperty = "ml" },
            Spec = new ModelVersionSpec
            {
                ModelName = "sales-model",
                Version = 1,
                Artifact = new ArtifactSpec { Uri = "s3://models/sales/1/model.zip", Sha256 = new string('a', 64) },
            },
        };
        return ServingWorkloads.Deployment(owner, version, track, 2, Options.Image).Spec.Template.Spec;
    }

    private static IEnumerable<TestCaseData> OperatorPods()
    {
        yield return new TestCaseData(TrainingJobBuilder.Build(Run(), 1, Options).Spec.Template.Spec).SetArgDisplayNames("training Job");
        yield return new TestCaseData(TrainingJobBuilder.Build(Run(s => s.Trainer = new TrainerSpec
        {
            Image = "example.com/python-trainer:1", Command = ["python", "train.py"],
        }), 1, Options).Spec.Template.Spec).SetArgDisplayNames("training Job, custom image");
        yield return new TestCaseData(ModelServerPod(ServingWorkloads.Stable)).SetArgDisplayNames("model server, stable");
        yield return new TestCaseData(ModelServerPod(ServingWorkloads.Canary, s => s.Image = "example.com/server:2"))
            .SetArgDisplayNames("model server, canary, custom image");
    }

    [TestCaseSource(nameof(OperatorPods))]
    public void PodsTheOperatorCreates_PassRestricted_AsUid65532_WithAReadOnlyRootAndAWritableTmp(V1PodSpec pod)
    {
        Assert.That(RestrictedProfile.Violations(pod), Is.Empty);
        Assert.That((pod.SecurityContext.RunAsUser, pod.SecurityContext.RunAsGroup), Is.EqualTo(((long?)65532, (long?)65532)),
            "the Dockerfile's USER, stated so an image that defaults to root runs as non-root too");
        AssertReadOnlyRootWithWritableTmp(pod);
    }

    [TestCaseSource(nameof(OperatorPods))]
    public void PodsTheOperatorCreates_RequestCpuAndMemory_SoResourceQuotaApplies(V1PodSpec pod)
    {
        foreach (var container in pod.Containers)
        {
            Assert.That(container.Resources.Requests.Keys, Is.SupersetOf(new[] { "cpu", "memory" }), container.Name);
        }
    }

    [Test]
    public void Requests_AnExplicitRequestWins_ThenALimit_ThenTheDefault()
    {
        var resources = new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("2") },
            Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("4"), ["memory"] = new("3Gi"), ["nvidia.com/gpu"] = new("1") },
        };

        var job = TrainingJobBuilder.Build(Run(s => s.Resources = resources), 1, Options);
        var defaulted = TrainingJobBuilder.Build(Run(), 1, Options);

        var requests = job.Spec.Template.Spec.Containers.Single().Resources.Requests;
        Assert.That(requests.ToDictionary(r => r.Key, r => r.Value.ToString()),
            Is.EqualTo(new Dictionary<string, string> { ["cpu"] = "2", ["memory"] = "3Gi" }));
        Assert.That(job.Spec.Template.Spec.Containers.Single().Resources.Limits, Is.SameAs(resources.Limits));
        Assert.That(resources.Requests.Keys, Is.EqualTo(new[] { "cpu" }), "the run's own spec is left as written");
        Assert.That(defaulted.Spec.Template.Spec.Containers.Single().Resources.Requests.ToDictionary(r => r.Key, r => r.Value.ToString()),
            Is.EqualTo(new Dictionary<string, string> { ["cpu"] = "500m", ["memory"] = "512Mi" }));
    }

    [Test]
    public void TheOperatorsOwnDeployment_InConfigDefault_PassesRestricted_WithAReadOnlyRootAndAWritableTmp()
    {
        var manifests = KubernetesYaml.LoadAllFromString(File.ReadAllText(RepositoryRoot.Combine("config", "manager", "manager.yaml")));
        var pod = manifests.OfType<V1Deployment>().Single(d => d.Metadata.Name == "cd4ml-operator").Spec.Template.Spec;

        Assert.That(RestrictedProfile.Violations(pod), Is.Empty);
        Assert.That((pod.SecurityContext.RunAsUser, pod.SecurityContext.RunAsGroup), Is.EqualTo(((long?)65532, (long?)65532)));
        AssertReadOnlyRootWithWritableTmp(pod);
        Assert.That(pod.Containers.Single().Resources.Requests.Keys, Is.SupersetOf(new[] { "cpu", "memory" }));
    }

    /// <summary>The checker itself: each control it enforces is reported, naming the field.</summary>
    [Test]
    public void RestrictedProfile_ReportsEachControlAPodBreaks()
    {
        var pod = new V1PodSpec
        {
            HostNetwork = true,
            SecurityContext = new V1PodSecurityContext { RunAsUser = 0, SeccompProfile = new V1SeccompProfile { Type = "Unconfined" } },
            Volumes = [new V1Volume { Name = "host", HostPath = new V1HostPathVolumeSource { Path = "/" } }],
            Containers =
            [
                new V1Container
                {
                    Name = "app",
                    Ports = [new V1ContainerPort { ContainerPort = 80, HostPort = 80 }],
                    SecurityContext = new V1SecurityContext
                    {
                        Privileged = true,
                        Capabilities = new V1Capabilities { Add = ["SYS_ADMIN"] },
                    },
                },
            ],
        };

        var violations = RestrictedProfile.Violations(pod);

        string[] expected =
        [
            "spec.hostNetwork", "spec.securityContext.runAsUser", "spec.securityContext.seccompProfile",
            "spec.volumes[host]: type hostPath", "spec.containers[app].securityContext.privileged",
            "spec.containers[app].securityContext.allowPrivilegeEscalation", "spec.containers[app].securityContext.runAsNonRoot",
            "spec.containers[app].securityContext.seccompProfile", "spec.containers[app].securityContext.capabilities.drop",
            "spec.containers[app].securityContext.capabilities.add", "spec.containers[app].ports[80].hostPort",
        ];
        foreach (var field in expected)
        {
            Assert.That(violations, Has.Some.StartsWith(field), field);
        }

        Assert.That(violations, Has.Count.EqualTo(expected.Length), string.Join("\n", violations));
    }

    private static void AssertReadOnlyRootWithWritableTmp(V1PodSpec pod)
    {
        var tmp = pod.Volumes.Single(v => v.Name == RestrictedPod.TmpVolume);
        Assert.That(tmp.EmptyDir, Is.Not.Null);
        foreach (var container in pod.Containers)
        {
            Assert.That(container.SecurityContext.ReadOnlyRootFilesystem, Is.True, container.Name);
            Assert.That(container.VolumeMounts.Single(m => m.Name == RestrictedPod.TmpVolume).MountPath, Is.EqualTo("/tmp"));
            Assert.That(container.Env.Single(e => e.Name == "TMPDIR").Value, Is.EqualTo("/tmp"));
        }
    }
}
