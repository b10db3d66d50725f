using System.Text.Json;
using System.Text.Json.Nodes;
using Cd4ml.Testing;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Tests.GitOps;

/// <summary>
/// Status documents captured from real controller scenarios, for the Argo CD health scripts' test
/// (config/argocd/health_test.lua). Written only when CD4ML_GOLDEN=1 (`make golden`); otherwise the scenarios run as
/// ordinary tests and leave the committed files alone.
/// </summary>
internal static class StatusGolden
{
    public static bool Refreshing => Environment.GetEnvironmentVariable("CD4ML_GOLDEN") == "1";

    public static string Directory => RepositoryRoot.Combine("config", "argocd", "testdata");

    /// <summary>The object as Argo CD sees it (apiVersion, kind, the metadata that matters, spec, status).</summary>
    public static JsonObject Document(IKubernetesObject<V1ObjectMeta> entity)
    {
        var node = JsonNode.Parse(KubernetesJson.Serialize(entity))!.AsObject();
        node["metadata"] = new JsonObject
        {
            ["name"] = entity.Metadata.Name,
            ["namespace"] = entity.Metadata.NamespaceProperty,
            ["generation"] = entity.Metadata.Generation,
        };
        return node;
    }

    public static async Task WriteAsync(string name, IKubernetesObject<V1ObjectMeta> entity)
    {
        if (!Refreshing)
        {
            return;
        }

        System.IO.Directory.CreateDirectory(Directory);
        var text = Document(entity).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        await File.WriteAllTextAsync(Path.Combine(Directory, name + ".json"), text + "\n");
    }
}
