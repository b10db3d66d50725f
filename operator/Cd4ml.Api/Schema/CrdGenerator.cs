using System.Collections;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Cd4ml.Api.Schema;

/// <summary>
/// Builds CustomResourceDefinitions from C# types: the type's properties become a structural OpenAPI v3 schema,
/// data-annotation attributes become validation the API server enforces, and the class attributes give names,
/// short names, categories and printer columns.
/// </summary>
public static class CrdGenerator
{
    public static V1CustomResourceDefinition Generate(Type entityType)
    {
        var entity = entityType.GetCustomAttribute<KubernetesEntityAttribute>()
                     ?? throw new ArgumentException($"{entityType.Name} has no [KubernetesEntity]");
        var names = entityType.GetCustomAttribute<ResourceNamesAttribute>() ?? new ResourceNamesAttribute();
        var specType = PropertyType(entityType, "Spec");
        var statusType = PropertyType(entityType, "Status");

        var root = new V1JSONSchemaProps
        {
            Type = "object",
            Description = entityType.GetCustomAttribute<DescriptionAttribute>()?.Description,
            Required = ["spec"],
            Properties = new Dictionary<string, V1JSONSchemaProps>
            {
                ["apiVersion"] = new() { Type = "string" },
                ["kind"] = new() { Type = "string" },
                ["metadata"] = new() { Type = "object" },
                ["spec"] = Schema(specType, []),
                ["status"] = Schema(statusType, []),
            },
        };

        return new V1CustomResourceDefinition
        {
            ApiVersion = "apiextensions.k8s.io/v1",
            Kind = "CustomResourceDefinition",
            Metadata = new V1ObjectMeta { Name = $"{entity.PluralName}.{entity.Group}" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = entity.Group,
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames
                {
                    Kind = entity.Kind,
                    ListKind = entity.Kind + "List",
                    Plural = entity.PluralName,
                    Singular = entity.Kind.ToLowerInvariant(),
                    ShortNames = names.ShortNames.Length > 0 ? names.ShortNames : null,
                    Categories = names.Categories.Length > 0 ? names.Categories : null,
                },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = entity.ApiVersion,
                        Served = true,
                        Storage = true,
                        Schema = new V1CustomResourceValidation { OpenAPIV3Schema = root },
                        Subresources = new V1CustomResourceSubresources { Status = new Dictionary<string, object>() },
                        AdditionalPrinterColumns = entityType.GetCustomAttributes<PrinterColumnAttribute>()
                            .Select(c => new V1CustomResourceColumnDefinition
                            {
                                Name = c.Name,
                                JsonPath = c.JsonPath,
                                Type = c.Type,
                                Priority = c.Priority == 0 ? null : c.Priority,
                                Description = c.Description,
                            })
                            .ToList(),
                    },
                ],
            },
        };
    }

    /// <summary>The YAML written to crds/: one file per kind, named after the CRD.</summary>
    public static string ToYaml(V1CustomResourceDefinition crd) =>
        "# Generated from the C# API types by `make crds` (cd4ml crds). Do not edit.\n" + KubernetesYaml.Serialize(crd);

    public static IReadOnlyDictionary<string, string> GenerateFiles(IEnumerable<Type> entityTypes) =>
        entityTypes.Select(Generate).ToDictionary(crd => crd.Metadata.Name + ".yaml", ToYaml);

    private static Type PropertyType(Type type, string name) =>
        type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance)?.PropertyType
        ?? throw new ArgumentException($"{type.Name} has no {name}");

    private static V1JSONSchemaProps Schema(Type type, HashSet<Type> visiting)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return new V1JSONSchemaProps { Type = "string" };
        }

        if (type == typeof(bool))
        {
            return new V1JSONSchemaProps { Type = "boolean" };
        }

        if (type == typeof(int) || type == typeof(short))
        {
            return new V1JSONSchemaProps { Type = "integer", Format = "int32" };
        }

        if (type == typeof(long))
        {
            return new V1JSONSchemaProps { Type = "integer", Format = "int64" };
        }

        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return new V1JSONSchemaProps { Type = "number" };
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return new V1JSONSchemaProps { Type = "string", Format = "date-time" };
        }

        if (type == typeof(ResourceQuantity) || type == typeof(IntOrString))
        {
            return new V1JSONSchemaProps
            {
                AnyOf = [new V1JSONSchemaProps { Type = "integer" }, new V1JSONSchemaProps { Type = "string" }],
                XKubernetesIntOrString = true,
            };
        }

        if (type.IsEnum)
        {
            return new V1JSONSchemaProps { Type = "string", EnumProperty = Enum.GetNames(type).Cast<object>().ToList() };
        }

        if (DictionaryValueType(type) is { } valueType)
        {
            return new V1JSONSchemaProps { Type = "object", AdditionalProperties = Schema(valueType, visiting) };
        }

        if (ElementType(type) is { } elementType)
        {
            return new V1JSONSchemaProps { Type = "array", Items = Schema(elementType, visiting) };
        }

        if (type == typeof(object) || type == typeof(JsonElement))
        {
            return new V1JSONSchemaProps { XKubernetesPreserveUnknownFields = true };
        }

        if (!visiting.Add(type))
        {
            throw new InvalidOperationException($"{type.Name} is recursive; structural schemas cannot express it");
        }

        var schema = new V1JSONSchemaProps
        {
            Type = "object",
            Properties = new Dictionary<string, V1JSONSchemaProps>(),
        };
        var required = new List<string>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<JsonIgnoreAttribute>() is not null || property.GetIndexParameters().Length > 0
                || !property.CanWrite)
            {
                continue;
            }

            var name = JsonName(property);
            var propertySchema = Schema(property.PropertyType, visiting);
            ApplyValidation(property, propertySchema);
            schema.Properties[name] = propertySchema;
            if (property.GetCustomAttribute<RequiredAttribute>() is not null)
            {
                required.Add(name);
            }
        }

        if (required.Count > 0)
        {
            schema.Required = required;
        }

        if (type.GetCustomAttribute<ExactlyOneOfAttribute>() is { } oneOf)
        {
            schema.OneOf = oneOf.Properties.Select(p => new V1JSONSchemaProps { Required = [p] }).ToList();
        }

        visiting.Remove(type);
        return schema;
    }

    private static void ApplyValidation(PropertyInfo property, V1JSONSchemaProps schema)
    {
        schema.Description ??= property.GetCustomAttribute<DescriptionAttribute>()?.Description;
        if (property.GetCustomAttribute<RegularExpressionAttribute>() is { } regex)
        {
            schema.Pattern = regex.Pattern;
        }

        if (property.GetCustomAttribute<StringLengthAttribute>() is { } length)
        {
            schema.MaxLength = length.MaximumLength;
            if (length.MinimumLength > 0)
            {
                schema.MinLength = length.MinimumLength;
            }
        }

        if (property.GetCustomAttribute<RangeAttribute>() is { } range)
        {
            schema.Minimum = Convert.ToDouble(range.Minimum, System.Globalization.CultureInfo.InvariantCulture);
            schema.Maximum = Convert.ToDouble(range.Maximum, System.Globalization.CultureInfo.InvariantCulture);
        }

        if (property.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed)
        {
            schema.EnumProperty = allowed.Values.Where(v => v is not null).Cast<object>().ToList();
        }

        if (property.GetCustomAttribute<ItemsAttribute>() is { } items)
        {
            var isMap = schema.Type == "object";
            if (items.Min >= 0)
            {
                if (isMap) schema.MinProperties = items.Min; else schema.MinItems = items.Min;
            }

            if (items.Max >= 0)
            {
                if (isMap) schema.MaxProperties = items.Max; else schema.MaxItems = items.Max;
            }
        }
    }

    private static string JsonName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);

    private static Type? DictionaryValueType(Type type)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return dictionary?.GetGenericArguments()[0] == typeof(string) ? dictionary.GetGenericArguments()[1] : null;
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }
}
