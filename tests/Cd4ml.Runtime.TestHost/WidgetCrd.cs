using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.TestHost;

public static class WidgetCrd
{
    /// <summary>Installs the Widget CRD (idempotent) and waits until the API serves it.</summary>
    public static async Task InstallAsync(IKubernetes client, CancellationToken ct = default)
    {
        var crd = new V1CustomResourceDefinition
        {
            Metadata = new V1ObjectMeta { Name = $"widgets.{Widget.Group}" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = Widget.Group,
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames { Kind = "Widget", Plural = "widgets", Singular = "widget", ListKind = "WidgetList" },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = "v1", Served = true, Storage = true,
                        Subresources = new V1CustomResourceSubresources { Status = new object() },
                        Schema = new V1CustomResourceValidation
                        {
                            OpenAPIV3Schema = new V1JSONSchemaProps
                            {
                                Type = "object",
                                Properties = new Dictionary<string, V1JSONSchemaProps>
                                {
                                    ["spec"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
                                    ["status"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
                                },
                            },
                        },
                    },
                ],
            },
        };

        try
        {
            await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, cancellationToken: ct);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
        }

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await client.CustomObjects.ListClusterCustomObjectAsync(Widget.Group, "v1", "widgets", limit: 1,
                    cancellationToken: ct);
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, ct);
            }
        }
    }
}
