using System.Collections;
using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cd4ml.Api.Schema;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Api.Tests;

/// <summary>
/// `kubectl explain tr.spec.dataset` teaches only what the CRD's descriptions say. Every field of our own types (the
/// embedded Kubernetes types such as resources and tolerations bring their own docs) needs a [Description].
/// </summary>
public sealed class ReferenceDocsTests
{
    /// <summary>
    /// Fields that had no description when this test was written (issue 13). The list may only shrink: a new field without
    /// a description fails the test, and so does a listed field that has gained one (remove it here).
    /// </summary>
    private static readonly HashSet<string> Undocumented = new(StringComparer.Ordinal)
    {
        "trainingruns.spec.dataset",
        "trainingruns.spec.dataset.columns.name",
        "trainingruns.spec.dataset.columns.type",
        "trainingruns.spec.dataset.columns.min",
        "trainingruns.spec.dataset.columns.max",
        "trainingruns.spec.dataset.filters.column",
        "trainingruns.spec.dataset.filters.min",
        "trainingruns.spec.dataset.filters.max",
        "trainingruns.spec.dataset.split",
        "trainingruns.spec.dataset.split.timeColumn",
        "trainingruns.spec.trainer.command",
        "trainingruns.spec.trainer.args",
        "trainingruns.spec.trainer.task",
        "trainingruns.spec.trainer.algorithm",
        "trainingruns.spec.storage.secretRef.name",
        "trainingruns.spec.gates.comparison",
        "trainingruns.spec.gates.value",
        "trainingruns.spec.baseline.metric",
        "trainingruns.spec.serviceAccountName",
        "trainingruns.spec.nodeSelector",
        "trainingruns.spec.tolerations",
        "trainingruns.status.jobName",
        "trainingruns.status.startTime",
        "trainingruns.status.completionTime",
        "trainingruns.status.gates",
        "trainingruns.status.gates.metric",
        "trainingruns.status.gates.comparison",
        "trainingruns.status.gates.threshold",
        "trainingruns.status.gates.value",
        "trainingruns.status.gates.passed",
        "trainingruns.status.gates.message",
        "trainingruns.status.datasetDigest",
        "trainingruns.status.dataset.etag",
        "trainingruns.status.dataset.size",
        "trainingruns.status.outputUri",
        "trainingruns.status.modelUri",
        "trainingruns.status.modelSha256",
        "trainingruns.status.lastDatasetCheckTime",
        "trainingruns.status.history",
        "trainingruns.status.history.attempt",
        "trainingruns.status.history.generation",
        "trainingruns.status.history.jobName",
        "trainingruns.status.history.phase",
        "trainingruns.status.history.reason",
        "trainingruns.status.history.datasetDigest",
        "trainingruns.status.history.headline",
        "trainingruns.status.history.modelVersion",
        "trainingruns.status.history.startTime",
        "trainingruns.status.history.completionTime",
        "trainingruns.status.conditions.status",
        "trainingruns.status.conditions.lastTransitionTime",
        "trainingruns.status.conditions.observedGeneration",
        "modelversions.spec.modelName",
        "modelversions.spec.version",
        "modelversions.spec.artifact",
        "modelversions.spec.task",
        "modelversions.spec.lineage",
        "modelversions.spec.lineage.trainingRun",
        "modelversions.spec.lineage.attempt",
        "modelversions.spec.lineage.datasetUri",
        "modelversions.spec.lineage.datasetDigest",
        "modelversions.spec.lineage.image",
        "modelversions.spec.lineage.algorithm",
        "modelversions.spec.lineage.parameters",
        "modelversions.spec.lineage.trainerVersion",
        "modelversions.spec.storage",
        "modelversions.spec.storage.secretRef.name",
        "modelversions.spec.description",
        "modelversions.status.artifactSize",
        "modelversions.status.headline",
        "modelversions.status.conditions.status",
        "modelversions.status.conditions.lastTransitionTime",
        "modelversions.status.conditions.observedGeneration",
        "deployments.spec.modelName",
        "deployments.spec.resources",
        "deployments.spec.serviceAccountName",
        "deployments.spec.storage.secretRef.name",
        "deployments.spec.strategy",
        "deployments.spec.strategy.canary",
        "deployments.spec.strategy.canary.steps.pause.duration",
        "deployments.spec.strategy.canary.analysis",
        "deployments.spec.strategy.canary.analysis.prometheus",
        "deployments.spec.strategy.canary.analysis.prometheus.address",
        "deployments.spec.strategy.canary.analysis.metrics.name",
        "deployments.spec.trafficRouting",
        "deployments.status.canaryVersion",
        "deployments.status.currentStep",
        "deployments.status.stepStartTime",
        "deployments.status.analysis",
        "deployments.status.analysis.successful",
        "deployments.status.analysis.failed",
        "deployments.status.analysis.inconclusive",
        "deployments.status.analysis.consecutiveErrors",
        "deployments.status.analysis.lastMeasurementTime",
        "deployments.status.analysis.measurements",
        "deployments.status.analysis.measurements.metric",
        "deployments.status.analysis.measurements.phase",
        "deployments.status.analysis.measurements.value",
        "deployments.status.analysis.measurements.threshold",
        "deployments.status.analysis.measurements.sampleCount",
        "deployments.status.analysis.measurements.message",
        "deployments.status.analysis.measurements.time",
        "deployments.status.abortReason",
        "deployments.status.readyReplicas",
        "deployments.status.history",
        "deployments.status.history.version",
        "deployments.status.history.outcome",
        "deployments.status.history.reason",
        "deployments.status.history.time",
        "deployments.status.conditions.status",
        "deployments.status.conditions.lastTransitionTime",
        "deployments.status.conditions.observedGeneration",
    };

    [Test]
    public void EverySpecAndStatusField_HasADescriptionInTheCrd()
    {
        var missing = UndocumentedFields().ToList();
        TestContext.Out.WriteLine($"{missing.Count} fields without description:\n" + string.Join('\n', missing));

        Assert.Multiple(() =>
        {
            Assert.That(missing.Except(Undocumented), Is.Empty, "add a [Description] to these fields of the API types");
            Assert.That(Undocumented.Except(missing), Is.Empty, "these now have a description: remove them from the list above");
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
