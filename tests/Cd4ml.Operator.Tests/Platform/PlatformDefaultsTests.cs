using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Operator.Training;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Platform;

public sealed class PlatformDefaultsTests
{
    private static readonly PlatformDefaults Cluster = new()
    {
        S3Endpoint = "http://s3.cluster:9000",
        S3Region = "eu-west-1",
        S3ForcePathStyle = true,
        S3SecretName = "cluster-s3",
        PrometheusAddress = "http://prometheus.cluster:9090",
        Image = "registry/cd4ml:cluster",
    };

    [Test]
    public void Resolve_NamespaceValuesWin_FieldByField_OverTheClusters()
    {
        var resolved = PlatformDefaults.Resolve(new PlatformDefaults { S3Endpoint = "http://s3.team:9000", S3SecretName = "team-s3" }, Cluster);

        Assert.That(resolved, Is.EqualTo(Cluster with { S3Endpoint = "http://s3.team:9000", S3SecretName = "team-s3" }));
        Assert.That(PlatformDefaults.Resolve(null, Cluster), Is.EqualTo(Cluster), "no ConfigMap: the cluster's");
    }

    [Test]
    public void Storage_ResourceFieldsWin_AndWhatItLeavesUnsetComesFromTheDefaults()
    {
        var storage = Cluster.Storage(new S3StorageSpec { Endpoint = "http://own:9000", ForcePathStyle = false })!;

        Assert.That(storage.Endpoint, Is.EqualTo("http://own:9000"));
        Assert.That(storage.ForcePathStyle, Is.False);
        Assert.That(storage.SecretRef!.Name, Is.EqualTo("cluster-s3"));
        Assert.That(storage.Region, Is.EqualTo("eu-west-1"));
    }

    [Test]
    public void Storage_WithoutAnyResourceFields_IsTheDefaults_AndNothingAnywhereIsAmbientAws()
    {
        var storage = Cluster.Storage(null)!;

        Assert.That((storage.Endpoint, storage.SecretRef?.Name, storage.ForcePathStyle), Is.EqualTo(("http://s3.cluster:9000", "cluster-s3", (bool?)true)));
        Assert.That(PlatformDefaults.None.Storage(null), Is.Null);
        Assert.That(PlatformDefaults.None.Storage(new S3StorageSpec()), Is.Null);
    }

    [Test]
    public void FromConfigMap_ReadsEveryKey_IncludingResources()
    {
        var (defaults, problem) = PlatformDefaults.FromConfigMap(new Dictionary<string, string>
        {
            [PlatformDefaults.S3EndpointKey] = "http://minio.team:9000",
            [PlatformDefaults.S3ForcePathStyleKey] = "true",
            [PlatformDefaults.S3SecretNameKey] = "team-s3",
            [PlatformDefaults.PrometheusAddressKey] = "http://prometheus.team:9090",
            [PlatformDefaults.TrainingRequestsKey] = "cpu=500m, memory=512Mi",
            [PlatformDefaults.ServingLimitsKey] = "memory=1Gi",
            [PlatformDefaults.TrainingMaxConcurrentKey] = "2",
        });

        Assert.That(problem, Is.Null);
        Assert.That(defaults.S3Endpoint, Is.EqualTo("http://minio.team:9000"));
        Assert.That(defaults.S3ForcePathStyle, Is.True);
        Assert.That(defaults.S3SecretName, Is.EqualTo("team-s3"));
        Assert.That(defaults.PrometheusAddress, Is.EqualTo("http://prometheus.team:9090"));
        Assert.That(defaults.TrainingResources!.Requests["cpu"].ToString(), Is.EqualTo("500m"));
        Assert.That(defaults.TrainingResources.Requests["memory"].ToString(), Is.EqualTo("512Mi"));
        Assert.That(defaults.TrainingResources.Limits, Is.Null);
        Assert.That(defaults.ServingResources!.Limits["memory"].ToString(), Is.EqualTo("1Gi"));
        Assert.That(defaults.MaxConcurrentTraining, Is.EqualTo(2));
    }

    [Test]
    public void MaxConcurrentTraining_OfTheNamespace_OverridesTheClusters()
    {
        var cluster = new PlatformDefaults { MaxConcurrentTraining = 5 };

        Assert.That(PlatformDefaults.Resolve(new PlatformDefaults { MaxConcurrentTraining = 1 }, cluster).MaxConcurrentTraining, Is.EqualTo(1));
        Assert.That(PlatformDefaults.Resolve(new PlatformDefaults(), cluster).MaxConcurrentTraining, Is.EqualTo(5));
    }

    [TestCase(PlatformDefaults.S3ForcePathStyleKey, "yes", "not true or false")]
    [TestCase(PlatformDefaults.S3EndpointKey, "minio:9000", "not an http(s) URL")]
    [TestCase(PlatformDefaults.TrainingLimitsKey, "memory:2Gi", "<resource>=<quantity>")]
    [TestCase(PlatformDefaults.TrainingMaxConcurrentKey, "-1", "not a whole number")]
    [TestCase(PlatformDefaults.TrainingMaxConcurrentKey, "two", "not a whole number")]
    [TestCase("s3.endpiont", "http://minio:9000", "unknown key")]
    public void FromConfigMap_AMalformedValue_IsAProblemNamingTheKey(string key, string value, string message)
    {
        var (_, problem) = PlatformDefaults.FromConfigMap(new Dictionary<string, string> { [key] = value });

        Assert.That(problem, Is.Not.Null);
        Assert.That(problem!.Key, Is.EqualTo(key));
        Assert.That(problem.Message, Does.Contain(message));
    }

    [Test]
    public void Effective_ShowsTheMergedStorageAndPrometheus()
    {
        var effective = Cluster.Effective(new S3StorageSpec { SecretRef = new SecretReference { Name = "own" } }, "http://p:9090");

        Assert.That(effective.Storage!.Endpoint, Is.EqualTo("http://s3.cluster:9000"));
        Assert.That(effective.Storage.SecretName, Is.EqualTo("own"));
        Assert.That(effective.Storage.ForcePathStyle, Is.True);
        Assert.That(effective.Prometheus, Is.EqualTo("http://p:9090"));
    }

    [Test]
    public void NamespaceDefaults_Apply_GivesTheOperatorOptionsAsSeenFromTheNamespace()
    {
        var cluster = new OperatorOptions { Image = "registry/cd4ml:operator", PrometheusAddress = "http://prometheus.cluster:9090" };

        var scoped = new NamespaceDefaults(Cluster with { Image = "registry/cd4ml:team" }, null).Apply(cluster);

        Assert.That(scoped.Image, Is.EqualTo("registry/cd4ml:team"));
        Assert.That(scoped.PrometheusAddress, Is.EqualTo("http://prometheus.cluster:9090"));
        Assert.That(scoped.Platform.S3SecretName, Is.EqualTo("cluster-s3"));
    }

    [Test]
    public void TrainingJob_OfARunWithoutStorage_GetsTheDefaultEndpointSecretAndResources()
    {
        var defaults = Cluster with
        {
            TrainingResources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("250m") } },
        };
        var options = new OperatorOptions { Image = "registry/cd4ml:cluster", Platform = defaults };

        var container = TrainingJobBuilder.Build(Run(storage: null), 1, options).Spec.Template.Spec.Containers.Single();

        var values = container.Env.Where(e => e.Value is not null).ToDictionary(e => e.Name, e => (string?)e.Value);
        var settings = Cd4ml.Training.TrainingSettings.FromEnvironment(values);
        Assert.That(settings.S3.ServiceUrl, Is.EqualTo("http://s3.cluster:9000"));
        Assert.That(settings.S3.Region, Is.EqualTo("eu-west-1"));
        Assert.That(settings.S3.ForcePathStyle, Is.True);
        Assert.That(container.Env.Single(e => e.Name == S3Settings.AccessKeyIdVariable).ValueFrom.SecretKeyRef.Name, Is.EqualTo("cluster-s3"));
        Assert.That(container.Resources.Requests["cpu"].ToString(), Is.EqualTo("250m"));
    }

    [Test]
    public void TrainingJob_ExplicitStorageAndResourcesWin_OverTheDefaults()
    {
        var options = new OperatorOptions
        {
            Platform = Cluster with
            {
                TrainingResources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("250m") } },
            },
        };
        var run = Run(new S3StorageSpec { SecretRef = new SecretReference { Name = "own-s3" }, Endpoint = "http://own:9000" });
        run.Spec.Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("2") } };

        var container = TrainingJobBuilder.Build(run, 1, options).Spec.Template.Spec.Containers.Single();

        Assert.That(container.Env.Single(e => e.Name == "CD4ML_S3_ENDPOINT").Value, Is.EqualTo("http://own:9000"));
        Assert.That(container.Env.Single(e => e.Name == S3Settings.AccessKeyIdVariable).ValueFrom.SecretKeyRef.Name, Is.EqualTo("own-s3"));
        Assert.That(container.Resources.Requests["cpu"].ToString(), Is.EqualTo("2"));
    }

    [Test]
    public void ModelServer_OfAVersionWithoutStorage_GetsTheDefaultStorageAndResources()
    {
        var owner = new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = "sales-api", NamespaceProperty = "ml", Uid = "uid-2" },
            Spec = new ModelDeploymentSpec { ModelName = "sales" },
        };
        var version = new ModelVersion
        {
            Metadata = new V1ObjectMeta { Name = "sales-1", NamespaceProperty = "ml" },
            Spec = new ModelVersionSpec
            {
                ModelName = "sales", Version = 1,
                Artifact = new ArtifactSpec { Uri = "s3://models/sales/model.zip", Sha256 = new string('0', 64) },
            },
        };
        var defaults = Cluster with
        {
            ServingResources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("1Gi") } },
        };

        var container = ServingWorkloads.Deployment(owner, version, ServingWorkloads.Stable, 1, "img", defaults: defaults)
            .Spec.Template.Spec.Containers.Single();

        Assert.That(container.Env.Single(e => e.Name == "CD4ML_S3_ENDPOINT").Value, Is.EqualTo("http://s3.cluster:9000"));
        Assert.That(container.Env.Single(e => e.Name == "AWS_ACCESS_KEY_ID").ValueFrom.SecretKeyRef.Name, Is.EqualTo("cluster-s3"));
        Assert.That(container.Resources.Limits["memory"].ToString(), Is.EqualTo("1Gi"));
    }

    private static TrainingRun Run(S3StorageSpec? storage) => new()
    {
        Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = "ml", Uid = "uid-1", Generation = 1 },
        Spec = new TrainingRunSpec
        {
            ModelName = "sales",
            Dataset = new DatasetSpec { Uri = "s3://data/sales.csv", LabelColumn = "unit_sales" },
            Storage = storage,
        },
    };
}
