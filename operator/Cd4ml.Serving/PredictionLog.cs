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

        public void AppendRows(StringBuilder csv)
        {
            using var document = JsonDocument.Parse(Body);
            var root = document.RootElement;
            var features = Model.InputColumns;
            var fields = new string?[features.Count + Trailer.Length];
            var settings = Log.settings;
            var time = Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            var row = 0;
            IEnumerable<JsonElement> rows = root.TryGetProperty(PredictRequest.InstancesField, out var instances) ? instances.EnumerateArray() : [root];
            foreach (var instance in rows)
            {
                for (var f = 0; f < features.Count; f++)
                {
                    fields[f] = instance.TryGetProperty(features[f].Name, out var value) ? Text(value) : null;
                }

                var prediction = Predictions[row];
                var score = prediction.PredictedLabel is null ? prediction.Score : prediction.Probability ?? prediction.Score;
                var trailer = fields.AsSpan(features.Count);
                trailer[0] = prediction.PredictedLabel ?? Number(prediction.Score);
                trailer[1] = Number(score);
                trailer[2] = Log.Ids.Format(FirstId + row);
                trailer[3] = settings.ModelName;
                trailer[4] = settings.ModelVersion;
                trailer[5] = settings.Track;
                trailer[6] = settings.Deployment;
                trailer[7] = time;
                CsvTable.AppendRecord(csv, fields);
                row++;
            }
        }

        /// <summary>A JSON value as CSV text the trainer reads back as the same value.</summary>
        private static string? Text(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }

    /// <summary>Feedback rows: <c>predictionId,label,time</c>.</summary>
    private sealed record FeedbackEntry(IReadOnlyList<(string PredictionId, string Label)> Labels, DateTimeOffset Time) : ICsvLogEntry
    {
        public int Rows => Labels.Count;

        public string Header() => "predictionId,label,time\n";

        public void AppendRows(StringBuilder csv)
        {
            var time = Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            foreach (var (id, label) in Labels)
            {
                CsvTable.AppendRecord(csv, [id, label, time]);
            }
        }
    }

    internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
