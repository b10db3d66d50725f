using System.Text.Json.Nodes;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Testing;
using NUnit.Framework;
using YamlDotNet.RepresentationModel;

namespace Cd4ml.Operator.Tests.GitOps;

/// <summary>The Argo CD health scripts in config/argocd, run by Lua 5.1 (what Argo CD embeds) over captured status documents.</summary>
public sealed class ArgoCdHealthTests
{
    private static readonly string Folder = RepositoryRoot.Combine("config", "argocd");

    [Test]
    public async Task EveryCapturedStatus_GetsTheExpectedHealthAndMessage_AndOneGenerationAheadIsProgressing()
    {
        var result = await Tool.RunAsync("lua5.1", Path.Combine(Folder, "health_test.lua"));
        TestContext.Out.WriteLine(result.All);
        Assert.That(result.ExitCode, Is.Zero, result.All);
        var documents = Directory.GetFiles(Path.Combine(Folder, "testdata"), "*.json").Count(f => !f.EndsWith("expected.json"));
        Assert.That(documents, Is.GreaterThanOrEqualTo(17), "golden status documents (make golden)");
        Assert.That(result.Output, Does.Contain($"{2 * documents} passed, 0 failed"));
    }

    [Test]
    public void CapturedStatuses_CoverEveryPhaseOfEveryKind()
    {
        var captured = Directory.GetFiles(Path.Combine(Folder, "testdata"), "*.json")
            .Where(f => !f.EndsWith("expected.json"))
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!)
            .Select(d => $"{d["kind"]}/{d["status"]?["phase"]}")
            .ToHashSet();
        string[] phases =
        [
            $"TrainingRun/{TrainingRunStatus.Pending}", $"TrainingRun/{TrainingRunStatus.Running}",
            $"TrainingRun/{TrainingRunStatus.Succeeded}", $"TrainingRun/{TrainingRunStatus.Failed}",
            $"ModelVersion/{ModelVersionStatus.Pending}", $"ModelVersion/{ModelVersionStatus.Ready}", $"ModelVersion/{ModelVersionStatus.Invalid}",
            $"Deployment/{ModelDeploymentStatus.Pending}", $"Deployment/{ModelDeploymentStatus.Progressing}",
            $"Deployment/{ModelDeploymentStatus.Paused}", $"Deployment/{ModelDeploymentStatus.Healthy}",
            $"Deployment/{ModelDeploymentStatus.Degraded}",
        ];
        Assert.That(captured, Is.SupersetOf(phases));
    }

    [Test]
    public async Task AScriptUsingTheStringLibrary_FailsInTheSandbox_AsInArgoCd()
    {
        // The runner must refuse what Argo CD's VM refuses, or the test above would prove nothing about the sandbox.
        var scratch = Directory.CreateTempSubdirectory("argocd-health-");
        try
        {
            Directory.CreateDirectory(Path.Combine(scratch.FullName, "health"));
            Directory.CreateDirectory(Path.Combine(scratch.FullName, "testdata"));
            File.Copy(Path.Combine(Folder, "health_test.lua"), Path.Combine(scratch.FullName, "health_test.lua"));
            File.Copy(Path.Combine(Folder, "testdata", "deployment-healthy.json"), Path.Combine(scratch.FullName, "testdata", "deployment-healthy.json"));
            await File.WriteAllTextAsync(Path.Combine(scratch.FullName, "testdata", "expected.json"),
                "{\"deployment-healthy.json\":{\"status\":\"Healthy\",\"contains\":[]}}");
            foreach (var use in new[] { "string.upper(obj.kind)", "obj.kind:upper()", "math.floor(1)", "io.write('x')", "os.getenv('HOME')" })
            {
                await File.WriteAllTextAsync(Path.Combine(scratch.FullName, "health", "Deployment.lua"),
                    $"local x = {use}\nreturn {{ status = \"Healthy\", message = \"ok\" }}\n");
                var result = await Tool.RunAsync("lua5.1", Path.Combine(scratch.FullName, "health_test.lua"));
                Assert.That(result.ExitCode, Is.Not.Zero, use);
                Assert.That(result.Output, Does.Contain("script error"), use);
            }
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    [Test]
    public async Task Kustomization_PutsEachScriptIntoArgocdCm_UnderArgoCdsHealthKey()
    {
        var rendered = await Tool.RunAsync("kubectl", "kustomize", Folder);
        Assert.That(rendered.ExitCode, Is.Zero, rendered.All);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(rendered.Output));
        var map = (YamlMappingNode)yaml.Documents.Single().RootNode;
        Assert.That(((YamlScalarNode)map["kind"]).Value, Is.EqualTo("ConfigMap"));
        var metadata = (YamlMappingNode)map["metadata"];
        Assert.That(((YamlScalarNode)metadata["name"]).Value, Is.EqualTo("argocd-cm"), "merged into argocd-cm itself, no hash suffix");
        Assert.That(((YamlScalarNode)((YamlMappingNode)metadata["labels"])["app.kubernetes.io/part-of"]).Value, Is.EqualTo("argocd"));
        var data = (YamlMappingNode)map["data"];
        foreach (var kind in new[] { "TrainingRun", "ModelVersion", "Deployment" })
        {
            // Argo CD's key: resource.customizations.health.<group>_<kind>.
            var script = ((YamlScalarNode)data[$"resource.customizations.health.cd4ml.io_{kind}"]).Value;
            Assert.That(script, Is.EqualTo(await File.ReadAllTextAsync(Path.Combine(Folder, "health", kind + ".lua"))), kind);
        }
    }
}
