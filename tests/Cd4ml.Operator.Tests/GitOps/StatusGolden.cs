using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cd4ml.Testing;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Tests.GitOps;

/// <summary>
/// Status documents captured from real controller scenarios, for the Argo CD health scripts' test
/// (config/argocd/health_test.lua). Written only when CD4ML_GOLDEN=1 (`make golden`); otherwise the scenarios run as
/// ordinary tests and leave the committed files alone.
/// </summary>
internal static partial class StatusGolden
{
    public static bool Refreshing => Environment.GetEnvironmentVariable("CD4ML_GOLDEN") == "1";

    public static string Directory => RepositoryRoot.Combine("config", "argocd", "testdata");

    /// <summary>
    /// The object as Argo CD sees it (apiVersion, kind, the metadata that matters, spec, status), with what differs from
    /// run to run (the test's namespace, bucket, S3 port, times) fixed, so a refresh shows only real changes.
    /// </summary>
    public static JsonObject Document(IKubernetesObject<V1ObjectMeta> entity)
    {
        var json = TestBucket().Replace(KubernetesJson.Serialize(entity), "team-a-data")
            .Replace(entity.Metadata.NamespaceProperty, Namespace, StringComparison.Ordinal);
        json = Timestamp().Replace(LoopbackUrl().Replace(json, "http://s3.cd4ml-system.svc:4568"), "2026-11-30T12:00:00Z");
        var node = JsonNode.Parse(json)!.AsObject();
        node["metadata"] = new JsonObject
        {
            ["name"] = entity.Metadata.Name,
            ["namespace"] = Namespace,
            ["generation"] = entity.Metadata.Generation,
        };
        return node;
    }

    private const string Namespace = "team-a";

    [GeneratedRegex("golden-[0-9a-f]{32}")]
    private static partial Regex TestBucket();

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex LoopbackUrl();

    [GeneratedRegex(@"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")]
    private static partial Regex Timestamp();

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
