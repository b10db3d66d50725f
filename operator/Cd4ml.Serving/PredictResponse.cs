using System.Buffers;
using System.Text.Json;
using Cd4ml.Training;

namespace Cd4ml.Serving;

/// <summary>
/// The JSON answers of <c>POST /predict</c>, written straight into the response's buffer:
/// <c>{model, version, track, predictions: [{predictionId, score, predictedLabel?, probability?, classProbabilities?}]}</c> and
/// <c>{error, field?, row?}</c>. Names are encoded once per server. Non-finite numbers are written as the strings
/// "NaN", "Infinity", "-Infinity".
/// </summary>
internal sealed class PredictResponse(string model, string version, string track, PredictionIds ids)
{
    private static readonly JsonEncodedText PredictionIdName = JsonEncodedText.Encode("predictionId");
    private static readonly JsonEncodedText ModelName = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText VersionName = JsonEncodedText.Encode("version");
    private static readonly JsonEncodedText TrackName = JsonEncodedText.Encode("track");
    private static readonly JsonEncodedText PredictionsName = JsonEncodedText.Encode("predictions");
    private static readonly JsonEncodedText ScoreName = JsonEncodedText.Encode("score");
    private static readonly JsonEncodedText PredictedLabelName = JsonEncodedText.Encode("predictedLabel");
    private static readonly JsonEncodedText ProbabilityName = JsonEncodedText.Encode("probability");
    private static readonly JsonEncodedText ClassProbabilitiesName = JsonEncodedText.Encode("classProbabilities");
    private static readonly JsonEncodedText ErrorName = JsonEncodedText.Encode("error");
    private static readonly JsonEncodedText FieldName = JsonEncodedText.Encode("field");
    private static readonly JsonEncodedText RowName = JsonEncodedText.Encode("row");

    private readonly JsonEncodedText model = JsonEncodedText.Encode(model);
    private readonly JsonEncodedText version = JsonEncodedText.Encode(version);
    private readonly JsonEncodedText track = JsonEncodedText.Encode(track);

    /// <summary>Writes the predictions; row <c>i</c> gets the id with counter <paramref name="firstId"/> + i.</summary>
    public void WritePredictions(IBufferWriter<byte> output, IReadOnlyList<Prediction> predictions, long firstId)
    {
        Span<char> id = stackalloc char[PredictionIds.MaximumLength];
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteString(ModelName, model);
        json.WriteString(VersionName, version);
        json.WriteString(TrackName, track);
        json.WriteStartArray(PredictionsName);
        for (var row = 0; row < predictions.Count; row++)
        {
            var prediction = predictions[row];
            json.WriteStartObject();
            json.WriteString(PredictionIdName, id[..ids.Format(firstId + row, id)]);
            WriteNumber(json, ScoreName, prediction.Score);
            if (prediction.PredictedLabel is { } label)
            {
                json.WriteString(PredictedLabelName, label);
            }

            if (prediction.Probability is { } probability)
            {
                WriteNumber(json, ProbabilityName, probability);
            }

            if (prediction.ClassProbabilities is { } classes)
            {
                json.WriteStartObject(ClassProbabilitiesName);
                foreach (var (name, value) in classes)
                {
                    WriteNumber(json, name, value);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteError(IBufferWriter<byte> output, string message, string? field, int? row)
    {
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteString(ErrorName, message);
        if (field is not null)
        {
            json.WriteString(FieldName, field);
        }

        if (row is { } index)
        {
            json.WriteNumber(RowName, index);
        }

        json.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter json, JsonEncodedText name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteString(name, NonFinite(value));
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteString(name, NonFinite(value));
        }
    }

    private static string NonFinite(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}
