using System.Collections;
using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cd4ml.Api.Schema;
using Cd4ml.Testing;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Api.Tests;

/// <summary>
/// `kubectl explain tr.spec.dataset` teaches only what the CRD's descriptions say. Every field of our own types (the
/// embedded Kubernetes types such as resources and tolerations bring their own docs) needs a [Description].
/// </summary>
public sealed class ReferenceDocsTests
{
    [Test]
    public void EverySpecAndStatusField_HasADescriptionInTheCrd()
    {
        Assert.That(UndocumentedFields(), Is.Empty, "add a [Description] to these fields of the API types");
    }

    [Test]
    public void ApiReferencePage_MatchesWhatTheApiTypesGenerate()
    {
        var path = RepositoryRoot.Combine("docs", "api-reference.md");
        Assert.That(File.Exists(path), Is.True, $"{path} is missing: run `make docs`");
        Assert.That(File.ReadAllText(path), Is.EqualTo(ApiReference.Markdown(ApiKinds.All)), $"{path} is stale: run `make docs`");
    }

    [Test]
    public void ApiReferencePage_ListsEachFieldWithTypeRequiredDescriptionAndValidation()
    {
        var page = ApiReference.Markdown(ApiKinds.All);
        Assert.Multiple(() =>
        {
            Assert.That(page, Does.Contain("\n## TrainingRun\n").And.Contain("\n## ModelVersion\n").And.Contain("\n## Deployment\n"));
            Assert.That(page, Does.Contain("| `spec.dataset.uri` | string | yes | CSV object in S3, e.g. s3://data/sales/2026-11.csv, or a Parquet object (key ending in .parquet). Pattern: `^s3://"));
            Assert.That(page, Does.Contain("| `spec.backoffLimit` | int32 |  | Pod retries of the training Job before the attempt fails. Default 1. Range: 0 to 20. |"));
            Assert.That(page, Does.Contain("| `spec.dataset.columns[].type` | string | yes |").And.Contain("One of: `Number`, `Integer`, `String`, `Boolean`, `Date`."));
            Assert.That(page, Does.Contain("| `spec.strategy.canary.steps` | list of object |  | ").And.Contain("Each item: Exactly one of: `setWeight`, `pause`, `analysis`."));
            Assert.That(page, Does.Contain("| `spec.resources` | object |  | Container resources of the training Job. |")
                .And.Not.Contain("`spec.resources.limits`"), "embedded Kubernetes types are not expanded");
            Assert.That(page, Does.Contain("| `status.metrics` | map of number |"));
            Assert.That(page, Does.Contain("(ms\\|s\\|m\\|h)"), "pipes in patterns are escaped so the table keeps its columns");
        });
    }

    /// <summary>Paths such as trainingruns.spec.dataset.uri whose CRD schema has no description.</summary>
    private static IEnumerable<string> UndocumentedFields()
    {
        foreach (var kind in ApiKinds.All)
        {
            var crd = CrdGenerator.Generate(kind);
            var root = crd.Spec.Versions.Single().Schema.OpenAPIV3Schema;
            foreach (var part in new[] { "Spec", "Status" })
            {
                var property = kind.GetProperty(part)!;
                foreach (var path in Walk(property.PropertyType, root.Properties[JsonName(property)], $"{crd.Spec.Names.Plural}.{JsonName(property)}", []))
                {
                    yield return path;
                }
            }
        }
    }

    private static IEnumerable<string> Walk(Type type, V1JSONSchemaProps schema, string path, HashSet<Type> visiting)
    {
        type = Element(Nullable.GetUnderlyingType(type) ?? type, ref schema);
        if (!IsOurs(type) || !visiting.Add(type))
        {
            yield break;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<JsonIgnoreAttribute>() is not null || !property.CanWrite
                || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var name = JsonName(property);
            var field = schema.Properties[name];
            if (string.IsNullOrWhiteSpace(field.Description))
            {
                yield return $"{path}.{name}";
            }

            foreach (var nested in Walk(property.PropertyType, field, $"{path}.{name}", visiting))
            {
                yield return nested;
            }
        }

        visiting.Remove(type);
    }

    /// <summary>The element type of a list or map (and its items' schema), else the type itself.</summary>
    private static Type Element(Type type, ref V1JSONSchemaProps schema)
    {
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type) || !type.IsGenericType)
        {
            return type;
        }

        var arguments = type.GetGenericArguments();
        if (arguments.Length == 2)
        {
            schema = (V1JSONSchemaProps)schema.AdditionalProperties;
            return arguments[1];
        }

        schema = (V1JSONSchemaProps)schema.Items;
        return arguments[0];
    }

    private static bool IsOurs(Type type) => type.Namespace?.StartsWith("Cd4ml.", StringComparison.Ordinal) == true && !type.IsEnum;

    private static string JsonName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
}
