using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cd4ml.Training;

/// <summary>The JSON dialect of the training contract and its artifacts: camelCase, enums as names.</summary>
public static class TrainingJson
{
    /// <summary>For the settings contract: compact, and unknown properties (typos) are errors.</summary>
    public static readonly JsonSerializerOptions Options = Create(indented: false, strict: true);

    /// <summary>For manifest.json and metrics.json: indented, and unknown properties from newer trainers are ignored.</summary>
    public static readonly JsonSerializerOptions Documents = Create(indented: true, strict: false);

    private static JsonSerializerOptions Create(bool indented, bool strict) => new(JsonSerializerDefaults.Web)
    {
        WriteIndented = indented,
        // Never embedded in HTML; keep '+' in versions and non-ASCII column values readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = strict ? JsonUnmappedMemberHandling.Disallow : JsonUnmappedMemberHandling.Skip,
    };
}
