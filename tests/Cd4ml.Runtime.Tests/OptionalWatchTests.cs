using System.Text.Json.Serialization;
using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.TestHost;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Runtime.Tests;

/// <summary>
/// <c>WatchesOptional</c> against a real API server: a kind whose CRD is not installed neither holds up the manager
/// nor floods the log, and its watch starts once the CRD appears.
/// </summary>
[NonParallelizable]
public sealed class OptionalWatchTests : WidgetTests
{
    private static readonly TimeSpan Recheck = TimeSpan.FromMilliseconds(300);

    protected override string NamespacePrefix => "optional";

    [SetUp]
    public async Task NoGadgetCrd() => await DeleteGadgetCrdAsync();

    [TearDown]
    public async Task RemoveGadgetCrd() => await DeleteGadgetCrdAsync();

    [Test]
    public async Task ManagerBecomesReady_WithoutTheOptionalKind_AndWatchesItOnceItsCrdIsInstalled()
    {
        var reconciler = new RecordingReconciler(client);
        using var logs = new CapturingLoggerFactory();
        await using var op = await TestOperator.Create(client, ns, logs, new InformerOptions { MissingKindRecheck = Recheck })
            .Add(reconciler, o => o.WatchesOptional<Gadget>(g => [new NamespacedName(g.Metadata.NamespaceProperty, g.Spec.Widget)]))
            .StartAsync();

        await widgets.CreateAsync(Widget.New(ns, "w"));
        await Wait.UntilAsync(() => reconciler.CountFor("w") == 1, "the widget reconciled while gadgets are not served");
        await Wait.UntilAsync(() => op.Metrics.WatchRestarts.WithLabels("Gadget", "not_served").Value >= 3,
            "gadgets checked again");
        Assert.That(logs.Messages(LogLevel.Information).Count(m => m.Contains("gadgets.optional.test.cd4ml.io is not served")),
            Is.EqualTo(1), "said once, not at every check");
        Assert.That(logs.Messages(LogLevel.Warning).Where(m => m.Contains("Gadget") || m.Contains("gadgets")), Is.Empty,
            "a missing optional kind is not a failure");

        await InstallGadgetCrdAsync();
        await new ResourceClient<Gadget>(client).CreateAsync(Gadget.New(ns, "g", widget: "w"));
        await Wait.UntilAsync(() => reconciler.CountFor("w") >= 2, "a new gadget reconciles its widget", seconds: 10);
        Assert.That(logs.Messages(LogLevel.Information), Has.One.Contains("gadgets.optional.test.cd4ml.io is served now"));

        var gadget = (await new ResourceClient<Gadget>(client).GetAsync(ns, "g"))!;
        gadget.Spec.Widget = "other";
        await new ResourceClient<Gadget>(client).ReplaceAsync(gadget);
        await Wait.UntilAsync(() => reconciler.CountFor("other") == 1, "an edited gadget reconciles what it maps to");
    }

    [Test]
    public async Task AKindUsedBothWays_IsRequired()
    {
        await using var op = await TestOperator.Create(client, ns)
            .Add(new RecordingReconciler(client), o => o.Owns<V1ConfigMap>().WatchesOptional<V1ConfigMap>(_ => []))
            .StartAsync();
        Assert.That(op.Manager.Informers.All.Single(i => i.Kind == "ConfigMap").IsOptional, Is.False);
        Assert.That(op.Manager.Informers.All.Single(i => i.Kind == "Widget").IsOptional, Is.False);
    }

    private async Task InstallGadgetCrdAsync() => await CrdInstaller.InstallAsync(client,
    [
        new V1CustomResourceDefinition
        {
            Metadata = new V1ObjectMeta { Name = $"gadgets.{Gadget.Group}" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = Gadget.Group,
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames
                {
                    Kind = "Gadget", Plural = "gadgets", Singular = "gadget", ListKind = "GadgetList",
                },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = "v1", Served = true, Storage = true,
                        Schema = new V1CustomResourceValidation
                        {
                            OpenAPIV3Schema = new V1JSONSchemaProps
                            {
                                Type = "object",
                                Properties = new Dictionary<string, V1JSONSchemaProps>
                                {
                                    ["spec"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
                                },
                            },
                        },
                    },
                ],
            },
        },
    ]);

    /// <summary>Deletes the Gadget CRD if present and waits until the API no longer serves gadgets.</summary>
    private async Task DeleteGadgetCrdAsync()
    {
        try
        {
            await client.ApiextensionsV1.DeleteCustomResourceDefinitionAsync($"gadgets.{Gadget.Group}");
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            return;
        }

        await Wait.UntilAsync(async () =>
        {
            try
            {
                await client.CustomObjects.ListClusterCustomObjectAsync(Gadget.Group, "v1", "gadgets");
                return false;
            }
            catch (Exception e) when (ApiErrors.IsNotFound(e))
            {
                return true;
            }
        }, "gadgets no longer served");
    }

    [KubernetesEntity(Group = Group, ApiVersion = "v1", Kind = "Gadget", PluralName = "gadgets")]
    private sealed class Gadget : IKubernetesObject<V1ObjectMeta>
    {
        public const string Group = "optional.test.cd4ml.io";

        [JsonPropertyName("apiVersion")]
        public string ApiVersion { get; set; } = "";

        [JsonPropertyName("kind")]
        public string Kind { get; set; } = "";

        [JsonPropertyName("metadata")]
        public V1ObjectMeta Metadata { get; set; } = new();

        [JsonPropertyName("spec")]
        public GadgetSpec Spec { get; set; } = new();

        public static Gadget New(string @namespace, string name, string widget) => new()
        {
            ApiVersion = $"{Group}/v1",
            Kind = "Gadget",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace },
            Spec = new GadgetSpec { Widget = widget },
        };
    }

    /// <summary>Names the widget a gadget belongs to.</summary>
    private sealed class GadgetSpec
    {
        [JsonPropertyName("widget")]
        public string Widget { get; set; } = "";
    }
}
