using System.Collections.Concurrent;
using System.Reflection;
using k8s.Models;

namespace Cd4ml.Runtime.Client;

/// <summary>Where a kind lives in the API: group, version, plural and kind, read from <see cref="KubernetesEntityAttribute"/>.</summary>
public sealed record ResourceType(string Group, string Version, string Plural, string Kind)
{
    private static readonly ConcurrentDictionary<Type, ResourceType> Known = new();

    /// <summary>"v1" for core kinds, "group/version" otherwise, as written in apiVersion and owner references.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public static ResourceType Of<T>() => Of(typeof(T));

    public static ResourceType Of(Type type) => Known.GetOrAdd(type, static t =>
    {
        var attribute = t.GetCustomAttribute<KubernetesEntityAttribute>()
                        ?? throw new InvalidOperationException($"{t.Name} has no [KubernetesEntity] attribute.");
        var plural = string.IsNullOrEmpty(attribute.PluralName) ? attribute.Kind.ToLowerInvariant() + "s" : attribute.PluralName;
        return new ResourceType(attribute.Group ?? "", attribute.ApiVersion, plural, attribute.Kind);
    });

    public override string ToString() => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}
