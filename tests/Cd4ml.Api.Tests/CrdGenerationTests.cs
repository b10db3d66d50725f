using Cd4ml.Api.Schema;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Api.Tests;

public sealed class CrdGenerationTests
{
    [Test]
    public void CrdsFolder_MatchesWhatTheApiTypesGenerate()
    {
        foreach (var (name, yaml) in CrdGenerator.GenerateFiles(ApiKinds.All))
        {
            var path = RepositoryRoot.Combine("crds", name);
            Assert.That(File.Exists(path), Is.True, $"{path} is missing: run `make crds`");
            Assert.That(File.ReadAllText(path), Is.EqualTo(yaml), $"{path} is stale: run `make crds`");
        }

        var extra = Directory.GetFiles(RepositoryRoot.Combine("crds"), "*.yaml").Select(Path.GetFileName)
            .Except(CrdGenerator.GenerateFiles(ApiKinds.All).Keys);
        Assert.That(extra, Is.Empty, "crds/ holds files no API type generates");
    }

    [TestCase(typeof(TrainingRun), "trainingruns.cd4ml.io", "tr")]
    [TestCase(typeof(ModelVersion), "modelversions.cd4ml.io", "mv")]
    [TestCase(typeof(ModelDeployment), "deployments.cd4ml.io", "mld")]
    public void EveryKind_IsNamespacedWithShortNameCategoryAndStatusSubresource(Type kind, string crdName, string shortName)
    {
        var crd = CrdGenerator.Generate(kind);
        var version = crd.Spec.Versions.Single();
        Assert.Multiple(() =>
        {
            Assert.That(crd.Metadata.Name, Is.EqualTo(crdName));
            Assert.That(crd.Spec.Scope, Is.EqualTo("Namespaced"));
            Assert.That(crd.Spec.Names.ShortNames, Is.EqualTo(new[] { shortName }));
            Assert.That(crd.Spec.Names.Categories, Is.EqualTo(new[] { "cd4ml" }));
            Assert.That(version.Name, Is.EqualTo("v1alpha1"));
            Assert.That(version.Subresources.Status, Is.Not.Null);
            Assert.That(version.AdditionalPrinterColumns.Select(c => c.Name), Does.Contain("Phase").And.Contain("Age"));
            var status = version.Schema.OpenAPIV3Schema.Properties["status"];
            Assert.That(status.Properties.Keys, Is.SupersetOf(new[] { "phase", "observedGeneration", "conditions" }));
        });
    }

    [Test]
    public void Schema_CarriesValidationFromAttributes()
    {
        var spec = CrdGenerator.Generate(typeof(TrainingRun)).Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"];
        var dataset = spec.Properties["dataset"];
        Assert.Multiple(() =>
        {
            Assert.That(spec.Required, Is.SupersetOf(new[] { "modelName", "dataset" }));
            Assert.That(dataset.Properties["uri"].Pattern, Is.EqualTo(Patterns.S3Uri));
            Assert.That(spec.Properties["backoffLimit"].Minimum, Is.EqualTo(0));
            var algorithm = spec.Properties["trainer"].Properties["algorithm"];
            Assert.That(algorithm.EnumProperty, Is.EquivalentTo(Enum.GetNames<Algorithm>()));
            Assert.That(spec.Properties["resources"].Properties["limits"].AdditionalProperties, Is.Not.Null);
        });
    }

    [Test]
    public void CanaryStep_AllowsExactlyOneAction()
    {
        var deployment = CrdGenerator.Generate(typeof(ModelDeployment)).Spec.Versions[0].Schema.OpenAPIV3Schema;
        var step = (V1JSONSchemaProps)deployment.Properties["spec"].Properties["strategy"].Properties["canary"]
            .Properties["steps"].Items;
        Assert.That(step.OneOf.Select(o => o.Required.Single()), Is.EquivalentTo(new[] { "setWeight", "pause", "analysis" }));
    }

    [Test]
    public void Entities_SerializeWithCamelCaseNamesAndEnumsAsStrings()
    {
        var run = new TrainingRun
        {
            ApiVersion = ApiGroup.ApiVersion,
            Kind = TrainingRun.KindName,
            Metadata = new V1ObjectMeta { Name = "r" },
            Spec = new TrainingRunSpec
            {
                ModelName = "m",
                Dataset = new DatasetSpec { Uri = "s3://b/k.csv", LabelColumn = "y" },
                Trainer = new TrainerSpec { Algorithm = Algorithm.LightGbm },
                Gates = [new QualityGate { Metric = "rmse", Comparison = Comparison.LessThan, Value = 1 }],
            },
        };
        var json = KubernetesJson.Serialize(run);
        Assert.That(json, Does.Contain("\"modelName\":\"m\"").And.Contain("\"algorithm\":\"LightGbm\"")
            .And.Contain("\"comparison\":\"LessThan\"").And.Contain("\"labelColumn\":\"y\""));
        var back = KubernetesJson.Deserialize<TrainingRun>(json);
        Assert.That(back.Spec.Gates![0].Comparison, Is.EqualTo(Comparison.LessThan));
    }
}
