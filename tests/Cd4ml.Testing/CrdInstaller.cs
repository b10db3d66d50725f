using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Cd4ml.Testing;

/// <summary>Installs CustomResourceDefinitions and waits until the API server serves them.</summary>
public static class CrdInstaller
{
    public static async Task InstallAsync(IKubernetes client, IEnumerable<V1CustomResourceDefinition> crds,
        CancellationToken ct = default)
    {
        foreach (var crd in crds)
        {
            try
            {
                await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, cancellationToken: ct);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                var existing = await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name, cancellationToken: ct);
                crd.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
                await client.ApiextensionsV1.ReplaceCustomResourceDefinitionAsync(crd, crd.Metadata.Name, cancellationToken: ct);
            }

            await ControlPlane.WaitUntilAsync(async () =>
            {
                var current = await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name, cancellationToken: ct);
                return current.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true;
            }, TimeSpan.FromSeconds(30), $"CRD {crd.Metadata.Name}", ct);
        }
    }
}
