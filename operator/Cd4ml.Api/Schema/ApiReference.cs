using System.Globalization;
using System.Text;
using k8s.Models;

namespace Cd4ml.Api.Schema;

/// <summary>
/// The API reference page (docs/api-reference.md): per kind, one table row per field of the CRD schema
/// <see cref="CrdGenerator"/> builds, so the page says exactly what the API server validates and `kubectl explain` shows.
/// </summary>
public static class ApiReference
{
    public static string Markdown(IEnumerable<Type> entityTypes)
    {
        var page = new StringBuilder()
            .Append("<!-- Generated from the C# API types by `make docs` (cd4ml crds --reference). Do not edit. -->\n")
            .Append("# API reference: cd4ml.io/v1alpha1\n\n")
            .Append("Every field of the custom resources, as the CRDs in [crds/](../crds) define them. ")
            .Append("`kubectl explain` shows the same descriptions, e.g. `kubectl explain tr.spec.dataset`. ")
            .Append("`[]` marks the items of a list, `{}` the values of a map. Embedded Kubernetes types (resources, tolerations) ")
            .Append("are those of core/v1 and are not expanded here.\n");
        foreach (var crd in entityTypes.Select(CrdGenerator.Generate))
        {
            var names = crd.Spec.Names;
            var root = crd.Spec.Versions.Single().Schema.OpenAPIV3Schema;
            page.Append(CultureInfo.InvariantCulture, $"\n## {names.Kind}\n\n")
                .Append(CultureInfo.InvariantCulture, $"`{crd.Spec.Group}/{crd.Spec.Versions.Single().Name}`, ")
                .Append(CultureInfo.InvariantCulture, $"plural `{names.Plural}`, short name `{string.Join("`, `", names.ShortNames ?? [])}`. ")
                .Append(Cell(root.Description ?? "")).Append("\n\n")
                .Append("| Field | Type | Required | Description |\n|---|---|---|---|\n");
            foreach (var part in new[] { "spec", "status" })
            {
                Rows(page, part, root.Properties[part], root.Required?.Contains(part) == true);
            }
        }

        return page.ToString();
    }

    private static void Rows(StringBuilder page, string path, V1JSONSchemaProps schema, bool required)
    {
        var (inner, innerPath, each) = schema.Type switch
        {
            "array" => ((V1JSONSchemaProps)schema.Items, path + "[]", "Each item: "),
            "object" when schema.AdditionalProperties is V1JSONSchemaProps values => (values, path + "{}", "Each value: "),
            _ => ((V1JSONSchemaProps?)null, path, ""),
        };
        var itemRules = inner is null ? [] : Validation(inner).ToList();
        var text = string.Join(" ", new[] { schema.Description ?? "" }.Concat(Validation(schema))
            .Concat(itemRules.Count > 0 ? [each + string.Join(" ", itemRules)] : []).Where(t => t.Length > 0));
        page.Append(CultureInfo.InvariantCulture, $"| `{path}` | {TypeName(schema)} | {(required ? "yes" : "")} | {Cell(text)} |\n");

        var children = inner ?? schema;
        foreach (var (name, property) in (children.Properties ?? new Dictionary<string, V1JSONSchemaProps>()).Where(p => Described(p.Value)))
        {
            Rows(page, $"{innerPath}.{name}", property, children.Required?.Contains(name) == true);
        }
    }

    /// <summary>
    /// Whether the field or anything under it has a description. Our own fields all do (a test sees to it); the embedded
    /// Kubernetes types (resources, tolerations) carry none in the schema and are left to their own documentation.
    /// </summary>
    private static bool Described(V1JSONSchemaProps schema) =>
        !string.IsNullOrWhiteSpace(schema.Description)
        || (schema.Properties?.Values.Any(Described) ?? false)
        || (schema.Items is V1JSONSchemaProps items && Described(items))
        || (schema.AdditionalProperties is V1JSONSchemaProps values && Described(values));

    private static string TypeName(V1JSONSchemaProps schema) => schema switch
    {
        { XKubernetesIntOrString: true } => "integer or string",
        { Type: "array", Items: V1JSONSchemaProps items } => $"list of {TypeName(items)}",
        { Type: "object", AdditionalProperties: V1JSONSchemaProps values } => $"map of {TypeName(values)}",
        { Type: "string", Format: "date-time" } => "date-time",
        { Type: "integer", Format: { } format } => format,
        { Type: { } type } => type,
        _ => "any",
    };

    /// <summary>What the API server enforces beyond the type, in words.</summary>
    private static IEnumerable<string> Validation(V1JSONSchemaProps schema)
    {
        if (schema.EnumProperty is { Count: > 0 } values)
        {
            yield return $"One of: {Codes(values.Select(v => v.ToString()!))}.";
        }

        if (schema.Pattern is { } pattern)
        {
            yield return $"Pattern: `{pattern}`.";
        }

        if (Bounds("Length", schema.MinLength, schema.MaxLength) is { } length)
        {
            yield return length;
        }

        if (Bounds("Range", schema.Minimum, schema.Maximum) is { } range)
        {
            yield return range;
        }

        if (Bounds("Items", schema.MinItems ?? schema.MinProperties, schema.MaxItems ?? schema.MaxProperties) is { } items)
        {
            yield return items;
        }

        if (schema.OneOf is { Count: > 0 } oneOf)
        {
            yield return $"Exactly one of: {Codes(oneOf.Select(o => o.Required.Single()))}.";
        }

        if (schema.AnyOf?.Where(a => a.Required is not null).ToList() is { Count: > 0 } anyOf)
        {
            yield return $"At least one of: {Codes(anyOf.Select(a => a.Required.Single()))}.";
        }
    }

    private static string? Bounds(string what, double? min, double? max) => (min, max) switch
    {
        (null, null) => null,
        ({ } low, null or int.MaxValue) => $"{what}: at least {Number(low)}.",
        (null, { } high) => $"{what}: at most {Number(high)}.",
        ({ } low, { } high) => $"{what}: {Number(low)} to {Number(high)}.",
    };

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Codes(IEnumerable<string> values) => string.Join(", ", values.Select(v => $"`{v}`"));

    /// <summary>Text safe inside a Markdown table cell: no line breaks, pipes escaped, no raw HTML (<c>&lt;hex&gt;</c>).</summary>
    private static string Cell(string text) =>
        text.ReplaceLineEndings(" ").Replace("|", "\\|", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
