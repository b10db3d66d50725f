using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cd4ml.Artifacts;
using Cd4ml.Training;
using Cd4ml.Training.Scoring;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Serving;

/// <summary>
/// The prediction log and the feedback store: with <c>CD4ML_LOG_URI</c> set, sampled /predict requests and every
/// /feedback row go to S3 as CSV (see <see cref="CsvLogWriter{T}"/>), and logged predictions are remembered for
/// <see cref="LiveQuality"/>. The request path only copies the body and queues it; parsing and CSV happen in the background.
/// </summary>
internal sealed class PredictionLog : IAsyncDisposable
{
    public const string PredictionsKind = "predictions";
    public const string FeedbackKind = "feedback";

    private readonly ServeSettings settings;
    private readonly CsvLogWriter<LoggedRequest>? predictions;
    private readonly CsvLogWriter<FeedbackEntry>? feedback;
    private readonly IDisposable? client;
    private RowFormat? rowFormat;

    public PredictionLog(ServeSettings settings, ServingMetrics metrics, PredictionIds ids, ILogger logger, TimeProvider time)
    {
        this.settings = settings;
        Ids = ids;
        Time = time;
        if (settings.LogUri is not { } prefix)
        {
            return;
        }

        var s3 = settings.S3.CreateClient();
        client = s3;
        var store = new ArtifactStore(s3);
        var host = Environment.MachineName.ToLowerInvariant();
        S3Location Folder(string kind) => prefix.Combine($"{kind}/model={settings.ModelName}/version={settings.ModelVersion}/");
        if (settings.LogSampleRate > 0)
        {
            predictions = new CsvLogWriter<LoggedRequest>(Folder(PredictionsKind), $"{host}-{ids.Instance}", store, settings.LogFlushInterval,
                metrics.LogRows(PredictionsKind), metrics.LogDropped(PredictionsKind), logger, time);
        }

        feedback = new CsvLogWriter<FeedbackEntry>(Folder(FeedbackKind), $"{host}-{ids.Instance}", store, settings.LogFlushInterval,
            metrics.LogRows(FeedbackKind), metrics.LogDropped(FeedbackKind), logger, time);
    }

    public PredictionIds Ids { get; }

    public TimeProvider Time { get; }

    public LiveQuality Quality { get; } = new();

    /// <summary>Whether this request's rows are to be logged (a coin flip at the sample rate).</summary>
    public bool Samples => predictions is not null && (settings.LogSampleRate >= 1 || Random.Shared.NextDouble() < settings.LogSampleRate);

    /// <summary>Queues a scored request (its body as received) and remembers its predictions for feedback. Never blocks.</summary>
    public void Log(ScoringModel model, byte[] body, Prediction[] scored, long firstId)
    {
        Quality.Remember(firstId, scored);
        predictions!.Add(new LoggedRequest(this, model, body, scored, firstId, Time.GetUtcNow()));
    }

    public void Store(IReadOnlyList<(string PredictionId, string Label)> rows)
    {
        feedback?.Add(new FeedbackEntry(rows, Time.GetUtcNow()));
    }

    public async ValueTask DisposeAsync()
    {
        if (predictions is not null)
        {
            await predictions.DisposeAsync();
        }

        if (feedback is not null)
        {
            await feedback.DisposeAsync();
        }

        client?.Dispose();
    }

    /// <summary>
    /// One logged request. Columns: the model's feature columns (the trainer's names, values as the client sent them),
    /// then <c>prediction</c> (the value, or the predicted label), <c>score</c> (the probability of the predicted label
    /// for classifiers, else the value), <c>predictionId</c>, <c>model</c>, <c>version</c>, <c>track</c>,
    /// <c>deployment</c>, <c>time</c> (ISO 8601 UTC).
    /// </summary>
    private sealed record LoggedRequest(PredictionLog Log, ScoringModel Model, byte[] Body, Prediction[] Predictions, long FirstId, DateTimeOffset Time)
        : ICsvLogEntry
    {
        public static readonly string[] Trailer = ["prediction", "score", "predictionId", "model", "version", "track", "deployment", "time"];

        public int Rows => Predictions.Length;

        public string Header()
        {
            var header = new StringBuilder();
            CsvTable.AppendRecord(header, [.. Model.InputColumns.Select(c => c.Name), .. Trailer]);
            return header.ToString();
        }

        public void AppendRows(CsvOutput csv)
        {
            var context = Log.RowContext(Model);
            var reader = new Utf8JsonReader(Body);
            reader.Read();
            // One pass over the usual single row: read the body as a row, unless it turns out to hold "instances" (then
            // it is a batch, whatever else it holds).
            if (Predictions.Length == 1 && ReadRow(ref reader, context, topLevel: true))
            {
                WriteRow(csv, context, 0);
                return;
            }

            reader = new Utf8JsonReader(Body);
            reader.Read();
            while (reader.Read() && !(reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(PredictRequest.InstancesField)))
            {
                reader.Read();
                reader.Skip();
            }

            reader.Read(); // StartArray
            reader.Read(); // the first row's StartObject
            for (var row = 0; row < Predictions.Length; row++)
            {
                ReadRow(ref reader, context, topLevel: false);
                WriteRow(csv, context, row);
                reader.Read(); // the next row's StartObject (or the end of instances)
            }
        }

        /// <summary>
        /// Reads the row object the reader is on (its StartObject) into <see cref="RowFormat.Values"/>; false when
        /// <paramref name="topLevel"/> and the object has an "instances" field.
        /// </summary>
        private bool ReadRow(ref Utf8JsonReader reader, RowFormat context, bool topLevel)
        {
            var values = context.Values;
            Array.Fill(values, default);
            Span<char> name = stackalloc char[256];
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (topLevel && reader.ValueTextEquals(PredictRequest.InstancesField))
                {
                    return false;
                }

                var feature = reader.ValueSpan.Length <= name.Length ? context.Lookup.FeatureIndex(name[..reader.CopyString(name)]) : -1;
                reader.Read();
                if (feature < 0)
                {
                    reader.Skip();
                    continue;
                }

                values[feature] = reader.TokenType switch
                {
                    JsonTokenType.String when !reader.ValueIsEscaped => Body.AsMemory((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length),
                    JsonTokenType.String => Encoding.UTF8.GetBytes(reader.GetString()!),
                    JsonTokenType.Number => Body.AsMemory((int)reader.TokenStartIndex, reader.ValueSpan.Length),
                    JsonTokenType.True => True,
                    JsonTokenType.False => False,
                    _ => default,
                };
            }

            return true;
        }

        private void WriteRow(CsvOutput csv, RowFormat context, int row)
        {
            foreach (var value in context.Values)
            {
                csv.Field(value.Span);
            }

            var prediction = Predictions[row];
            if (prediction.PredictedLabel is { } label)
            {
                csv.Field(label);
                csv.Field(prediction.Probability ?? prediction.Score);
            }
            else
            {
                csv.Field(prediction.Score);
                csv.Field(prediction.Score);
            }

            csv.Field(context.IdPrefix, FirstId + row);
            csv.WriteRaw(context.Labels);
            csv.Field(Time);
            csv.EndLine();
        }

        private static readonly ReadOnlyMemory<byte> True = "true"u8.ToArray();
        private static readonly ReadOnlyMemory<byte> False = "false"u8.ToArray();
    }

    /// <summary>What every logged row shares, built once by the background loop (the only caller).</summary>
    private RowFormat RowContext(ScoringModel model)
    {
        if (rowFormat?.Model != model)
        {
            var labels = new StringBuilder();
            foreach (var value in new[] { settings.ModelName, settings.ModelVersion, settings.Track, settings.Deployment })
            {
                labels.Append(',');
                CsvTable.AppendRecord(labels, [value]);
                labels.Length--; // AppendRecord ends the line
            }

            rowFormat = new RowFormat(model, model.CreateInput(), new ReadOnlyMemory<byte>[model.InputColumns.Count],
                Encoding.ASCII.GetBytes(Ids.Instance + "-"), Encoding.UTF8.GetBytes(labels.ToString()));
        }

        return rowFormat;
    }

    /// <param name="Lookup">Used only for its feature-name lookup.</param>
    /// <param name="Values">One row's feature values, reused row after row.</param>
    /// <param name="Labels">",model,version,track,deployment" as CSV.</param>
    private sealed record RowFormat(ScoringModel Model, ScoringInput Lookup, ReadOnlyMemory<byte>[] Values, byte[] IdPrefix, byte[] Labels);

    /// <summary>Feedback rows: <c>predictionId,label,time</c>.</summary>
    private sealed record FeedbackEntry(IReadOnlyList<(string PredictionId, string Label)> Labels, DateTimeOffset Time) : ICsvLogEntry
    {
        public int Rows => Labels.Count;

        public string Header() => "predictionId,label,time\n";

        public void AppendRows(CsvOutput csv)
        {
            foreach (var (id, label) in Labels)
            {
                csv.Field(id);
                csv.Field(label);
                csv.Field(Time);
                csv.EndLine();
            }
        }
    }

    internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
