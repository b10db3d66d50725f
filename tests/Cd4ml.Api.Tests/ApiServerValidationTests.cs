using Cd4ml.Api.Schema;
using Cd4ml.Testing;
using NUnit.Framework;

namespace Cd4ml.Api.Tests;

/// <summary>The generated CRDs on a real kube-apiserver: examples apply, malformed manifests are refused.</summary>
public sealed class ApiServerValidationTests
{
    private ControlPlane plane = null!;
    private string ns = "";

    [OneTimeSetUp]
    public async Task InstallCrds()
    {
        plane = await ControlPlane.SharedAsync();
        using var client = plane.CreateClient();
        await CrdInstaller.InstallAsync(client, ApiKinds.All.Select(CrdGenerator.Generate));
    }

    [SetUp]
    public async Task FreshNamespace() => ns = await plane.CreateNamespaceAsync("api");

    [Test]
    public async Task Examples_ApplyAndAreListedByTheCd4mlCategory()
    {
        var applied = await KubectlProcess.RunAsync(plane, null, "apply", "-n", ns, "-f", RepositoryRoot.Combine("examples"));
        Assert.That(applied.ExitCode, Is.Zero, applied.All);

        var listed = await KubectlProcess.RunAsync(plane, null, "get", "cd4ml", "-n", ns);
        Assert.That(listed.ExitCode, Is.Zero, listed.All);
        Assert.That(listed.Output, Does.Contain("trainingrun.cd4ml.io/sales-forecast")
            .And.Contain("modelversion.cd4ml.io/sales-1")
            .And.Contain("deployment.cd4ml.io/sales-api"));

        var shortName = await KubectlProcess.RunAsync(plane, null, "get", "mld", "-n", ns);
        Assert.That(shortName.Output, Does.Contain("sales-api").And.Contain("STABLE").And.Contain("CANARY").And.Contain("WEIGHT"));
        var apps = await KubectlProcess.RunAsync(plane, null, "get", "deployments", "-n", ns);
        Assert.That(apps.All, Does.Not.Contain("sales-api"), "`kubectl get deployments` must still mean apps/v1");
    }

    private const string Run = """
        apiVersion: cd4ml.io/v1alpha1
        kind: TrainingRun
        metadata: { name: bad }
        spec:
        """;

    private const string Version = """
        apiVersion: cd4ml.io/v1alpha1
        kind: ModelVersion
        metadata: { name: bad }
        spec:
        """;

    private const string Deploy = """
        apiVersion: cd4ml.io/v1alpha1
        kind: Deployment
        metadata: { name: bad }
        spec:
        """;

    private static readonly object[] Malformed =
    [
        new object[] { "missing required label column", Run + "\n  modelName: m\n  dataset: { uri: s3://bucket/data.csv }", "spec.dataset", "missing required field \"labelColumn\"" },
        new object[] { "missing spec", "apiVersion: cd4ml.io/v1alpha1\nkind: TrainingRun\nmetadata: { name: bad }", "TrainingRun", "missing required field \"spec\"" },
        new object[] { "bad algorithm enum", Run + "\n  modelName: m\n  dataset: { uri: s3://bucket/d.csv, labelColumn: label }\n  trainer: { algorithm: RandomForest }", "spec.trainer.algorithm", "Unsupported value" },
        new object[] { "bad S3 URI", Run + "\n  modelName: m\n  dataset: { uri: http://bucket/d.csv, labelColumn: label }", "spec.dataset.uri", "should match" },
        new object[] { "upper-case model name", Run + "\n  modelName: Sales\n  dataset: { uri: s3://bucket/d.csv, labelColumn: label }", "spec.modelName", "should match" },
        new object[] { "bad duration", Run + "\n  modelName: m\n  dataset: { uri: s3://bucket/d.csv, labelColumn: label }\n  datasetCheckInterval: ten minutes", "spec.datasetCheckInterval", "should match" },
        new object[] { "negative backoff limit", Run + "\n  modelName: m\n  dataset: { uri: s3://bucket/d.csv, labelColumn: label }\n  backoffLimit: -1", "spec.backoffLimit", "greater than or equal to 0" },
        new object[] { "bad gate comparison", Run + "\n  modelName: m\n  dataset: { uri: s3://bucket/d.csv, labelColumn: label }\n  gates: [{ metric: rmse, comparison: '<', value: 1 }]", "spec.gates[].comparison", "Unsupported value" },
        new object[] { "unknown field", Run + "\n  modelName: m\n  dataset: { uri: s3://bucket/d.csv, labelColumn: label }\n  learningRate: 0.1", "learningRate", "unknown field" },
        new object[] { "bad sha256", Version + "\n  modelName: m\n  version: 1\n  artifact: { uri: s3://bucket/m.zip, sha256: abc }", "spec.artifact.sha256", "should match" },
        new object[] { "version zero", Version + "\n  modelName: m\n  version: 0\n  artifact: { uri: s3://bucket/m.zip, sha256: " + new string('a', 64) + " }", "spec.version", "greater than or equal to 1" },
        new object[] { "negative replicas", Deploy + "\n  modelName: m\n  replicas: -1", "spec.replicas", "greater than or equal to 0" },
        new object[] { "canary weight over 100", Deploy + "\n  modelName: m\n  strategy: { canary: { steps: [{ setWeight: 120 }] } }", "spec.strategy.canary.steps[].setWeight", "less than or equal to 100" },
        new object[] { "canary step with two actions", Deploy + "\n  modelName: m\n  strategy: { canary: { steps: [{ setWeight: 20, pause: {} }] } }", "spec.strategy.canary.steps", "one and only one schema (oneOf)" },
        new object[] { "bad prometheus address", Deploy + "\n  modelName: m\n  strategy: { canary: { analysis: { prometheus: { address: prometheus:9090 } } } }", "spec.strategy.canary.analysis.prometheus.address", "should match" },
    ];

    [TestCaseSource(nameof(Malformed))]
    public async Task MalformedManifest_IsRejected_WithMessageNamingTheField(string why, string manifest, string field, string complaint)
    {
        var result = await KubectlProcess.RunAsync(plane, manifest, "apply", "-n", ns, "-f", "-");
        Assert.That(result.ExitCode, Is.Not.Zero, $"{why}: accepted\n{result.All}");
        // 1.20 reports list items without their index (spec.gates.comparison); newer servers add it.
        var error = System.Text.RegularExpressions.Regex.Replace(result.Error, @"\[\d+\]", "");
        Assert.That(error, Does.Contain(field.Replace("[]", "")).And.Contain(complaint), $"{why}: {result.All}");
    }
}
