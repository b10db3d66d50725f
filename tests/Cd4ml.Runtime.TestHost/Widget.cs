using System.Text.Json.Serialization;
using Cd4ml.Runtime.Entities;
using k8s.Models;

namespace Cd4ml.Runtime.TestHost;

/// <summary>A tiny custom resource for exercising the runtime; not part of the ML API.</summary>
[KubernetesEntity(Group = Widget.Group, ApiVersion = "v1", Kind = "Widget", PluralName = "widgets")]
public sealed class Widget : CustomResource<WidgetSpec, WidgetStatus>
{
    public const string Group = "test.cd4ml.io";

    public static Widget New(string @namespace, string name, int size = 1) => new()
    {
        ApiVersion = $"{Group}/v1",
        Kind = "Widget",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace },
        Spec = new WidgetSpec { Size = size },
    };
}

public sealed class WidgetSpec
{
    [JsonPropertyName("size")]
    public int Size { get; set; }
}

public sealed class WidgetStatus : ResourceStatus
{
    [JsonPropertyName("handledBy")]
    public string? HandledBy { get; set; }

    [JsonPropertyName("observedSize")]
    public int? ObservedSize { get; set; }

    [JsonPropertyName("notes")]
    public List<string> Notes { get; set; } = [];
}
