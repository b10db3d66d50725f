using System.Buffers;
using System.Text.Json;
using Cd4ml.Training.Scoring;

namespace Cd4ml.Serving;

/// <summary>A request the server refuses with 400; <see cref="Field"/> and <see cref="Row"/> say where, when known.</summary>
public sealed class PredictRequestException(string message, string? field = null, int? row = null) : Exception(message)
{
    public string? Field { get; } = field;

    public int? Row { get; } = row;
}

/// <summary>
/// The body of <c>POST /predict</c>: one row as a JSON object (<c>{"store_nbr": 1, …}</c>) or a batch
/// (<c>{"instances": [{…}, {…}]}</c>). Read straight from the request's UTF-8 bytes into the model's input layout
/// (<see cref="ScoringInput"/>, which checks each value); fields the model does not use are skipped unread.
/// </summary>
public static class PredictRequest
{
    public const string InstancesField = "instances";
    public const int MaximumInstances = 10_000;

    // Field names longer than this cannot be model features worth looking up; they are skipped like unknown ones.
    private const int MaximumFieldLength = 256;

    public static ScoringInput Read(ReadOnlySequence<byte> body, ScoringModel model)
    {
        try
        {
            var batch = IsBatch(body);
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            reader.Read();
            var input = model.CreateInput();
            if (!batch)
            {
                ReadRow(ref reader, input);
            }
            else
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (!reader.ValueTextEquals(InstancesField))
                    {
                        reader.Read();
                        reader.Skip();
                        continue;
                    }

                    reader.Read();
                    ReadInstances(ref reader, input);
                }
            }

            if (reader.Read())
            {
                throw new JsonException($"'{reader.TokenType}' after the end of the body's JSON value.");
            }

            return input;
        }
        catch (JsonException e)
        {
            throw new PredictRequestException($"the request body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>A first, cheap pass over the body: is it an object, and does it hold <c>instances</c> (then it is a batch, and other fields are ignored)?</summary>
    internal static bool IsBatch(ReadOnlySequence<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read())
        {
            throw new JsonException("the body is empty.");
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new PredictRequestException(
                $"the request body must be a JSON object (one row, or {{\"{InstancesField}\": [rows]}}); got {KindOf(reader.TokenType)}.");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(InstancesField))
            {
                return true;
            }

            reader.Read();
            reader.Skip();
        }

        return false;
    }

    private static void ReadInstances(ref Utf8JsonReader reader, ScoringInput input)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new PredictRequestException($"field '{InstancesField}' must be an array of rows; got {KindOf(reader.TokenType)}.", InstancesField);
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var row = input.Count;
            if (row == MaximumInstances)
            {
                throw new PredictRequestException($"field '{InstancesField}' must hold 1 to {MaximumInstances} rows; got more.", InstancesField);
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new PredictRequestException($"row {row}: '{InstancesField}[{row}]' must be a JSON object; got {KindOf(reader.TokenType)}.",
                    InstancesField, row);
            }

            ReadRow(ref reader, input);
        }

        if (input.Count == 0)
        {
            throw new PredictRequestException($"field '{InstancesField}' must hold 1 to {MaximumInstances} rows; got 0.", InstancesField);
        }
    }

    /// <summary>Reads one row object; the reader is on its StartObject and ends on its EndObject.</summary>
    private static void ReadRow(ref Utf8JsonReader reader, ScoringInput input)
    {
        input.BeginRow();
        Span<char> name = stackalloc char[MaximumFieldLength];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var feature = -1;
            if (reader.HasValueSequence ? reader.ValueSequence.Length <= MaximumFieldLength : reader.ValueSpan.Length <= MaximumFieldLength)
            {
                feature = input.FeatureIndex(name[..reader.CopyString(name)]);
            }

            reader.Read();
            if (feature < 0)
            {
                reader.Skip();
                continue;
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.Null:
                    input.SetText(feature, null);
                    break;
                case JsonTokenType.String:
                    input.SetText(feature, reader.GetString());
                    break;
                case JsonTokenType.Number:
                    input.SetNumber(feature, reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
                    break;
                case JsonTokenType.True or JsonTokenType.False:
                    input.SetBoolean(feature, reader.GetBoolean());
                    break;
                default:
                    throw ScoringModel.NotAScalar(input.FeatureName(feature), input.CurrentRow, KindOf(reader.TokenType));
            }
        }

        input.EndRow();
    }

    /// <summary>The name a client knows (JSON's value kinds) for the value starting at a token.</summary>
    private static string KindOf(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => nameof(JsonValueKind.Object),
        JsonTokenType.StartArray => nameof(JsonValueKind.Array),
        _ => token.ToString(),
    };
}
