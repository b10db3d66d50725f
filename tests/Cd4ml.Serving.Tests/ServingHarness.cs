using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Cd4ml.Artifacts;
using Cd4ml.LocalCluster;
using Cd4ml.Testing;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;
using Cd4ml.Training.Scoring;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Serving.Tests;

/// <summary>A model trained once per test run on generated retail data, stored in the shared s3rver.</summary>
internal sealed record TrainedModel(S3Server Server, S3Location Prefix, string Sha256, CsvTable Holdout);

internal static class ServingHarness
{
    private static readonly Lazy<Task<TrainedModel>> Trained = new(TrainAsync);
    private static readonly ConcurrentDictionary<MlTask, Lazy<Task<ScoringModel>>> Classifiers = new();

    public static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static Task<TrainedModel> ModelAsync() => Trained.Value;

    /// <summary>
    /// Copies the trained artifacts to a fresh prefix, letting <paramref name="change"/> rewrite a file (return the new
    /// bytes) or leave it out (return null). Returns the new prefix.
    /// </summary>
    public static async Task<S3Location> CopyAsync(TrainedModel model, Func<string, byte[], byte[]?>? change = null)
    {
        var target = (await model.Server.CreateUniqueBucketAsync("serve")).Combine("runs/copy/");
        foreach (var name in new[] { ModelManifest.ModelFileName, ModelManifest.FileName, ModelManifest.MetricsFileName, ModelManifest.HoldoutFileName, TrainingProfile.FileName })
        {
            var bytes = await model.Server.Store.GetBytesAsync(model.Prefix.Combine(name));
            if ((change is null ? bytes : change(name, bytes)) is { } written)
            {
                await model.Server.Store.PutBytesAsync(target.Combine(name), written);
            }
        }

        return target;
    }

    public static ServeSettings Settings(TrainedModel model, S3Location? prefix = null, string? sha256 = null, string track = "stable",
        string host = "127.0.0.1", int port = 0) => new()
    {
        ModelUri = (prefix ?? model.Prefix).Combine(ModelManifest.ModelFileName),
        ModelSha256 = sha256 ?? model.Sha256,
        ModelName = "sales",
        ModelVersion = "sales-1",
        Track = track,
        ListenHost = IPAddress.Parse(host),
        Port = port,
        AdminEnabled = true,
        S3 = model.Server.Settings,
    };

    public static Task<ModelServer> StartAsync(ServeSettings settings) =>
        ModelServer.StartAsync(settings, logging => logging.AddSimpleConsole(c => c.SingleLine = true).SetMinimumLevel(LogLevel.Warning));

    /// <summary>Waits until the server leaves Loading (ready or failed for good).</summary>
    public static async Task<ServingStatus> SettledAsync(ModelServer server, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (server.Status.State == ServingState.Loading)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"the server is still loading: {server.Status.Reason}");
            }

            await Task.Delay(50);
        }

        return server.Status;
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(Uri address, string path, string json)
    {
        using var response = await Http.PostAsync(new Uri(address, path), new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> GetJsonAsync(Uri address, string path)
    {
        using var response = await Http.GetAsync(new Uri(address, path));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>Value of cd4ml_predictions_total for one outcome, read from the server's /metrics.</summary>
    public static async Task<double> PredictionCountAsync(Uri address, string outcome)
    {
        var text = await Http.GetStringAsync(new Uri(address, "/metrics"));
        var line = text.Split('\n').Single(l => l.StartsWith("cd4ml_predictions_total{", StringComparison.Ordinal) && l.Contains($"outcome=\"{outcome}\""));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>Holdout rows as request objects: numbers as JSON numbers, the label left out, empty values as null.</summary>
    public static IReadOnlyList<Dictionary<string, object?>> Requests(CsvTable holdout, int count) =>
        holdout.Rows.Take(count).Select(row => holdout.Columns.Select((column, i) => (column, value: row[i]))
            .Where(x => x.column != RetailDatasetGenerator.LabelColumn)
            .ToDictionary(x => x.column, x => x.column is "store_nbr" or "item_nbr" or "perishable" or "holiday" && x.value is { Length: > 0 } v
                ? (object?)long.Parse(v, CultureInfo.InvariantCulture)
                : string.IsNullOrEmpty(x.value) ? null : x.value)).ToList();

    /// <summary>A port free on both loopback addresses (probed on the first; the caller retries when the second is taken).</summary>
    public static int FreePort(string host) => LoopbackPorts.Free(host);

    /// <summary>
    /// A model trained on a small classification set (features x1, x2, color; labels positive, band), for the task's
    /// default algorithm (LightGbm: multiclass scores with one model per class).
    /// </summary>
    public static Task<ScoringModel> ClassifierAsync(MlTask task) =>
        Classifiers.GetOrAdd(task, t => new Lazy<Task<ScoringModel>>(() => TrainClassifierAsync(t))).Value;

    private static async Task<ScoringModel> TrainClassifierAsync(MlTask task)
    {
        var server = await S3Server.SharedAsync();
        var bucket = await server.CreateUniqueBucketAsync("classify");
        var random = new Random(2);
        var csv = new StringBuilder("x1,x2,color,positive,band\n");
        string[] colors = ["red", "green", "blue"];
        for (var i = 0; i < 2000; i++)
        {
            var (x1, x2) = (random.NextDouble(), random.NextDouble());
            csv.Append(CultureInfo.InvariantCulture,
                $"{x1:F4},{x2:F4},{colors[random.Next(3)]},{(x1 + x2 > 1 ? "true" : "false")},{(x1 < 0.33 ? "low" : x1 < 0.66 ? "mid" : "high")}\n");
        }

        var dataset = bucket.Combine("classification.csv");
        await server.Store.PutBytesAsync(dataset, Encoding.UTF8.GetBytes(csv.ToString()));
        var settings = new TrainingSettings
        {
            DatasetUri = dataset, OutputUri = bucket.Combine("runs/classifier/"), Task = task, Algorithm = AlgorithmCatalog.DefaultFor(task),
            LabelColumn = task == MlTask.BinaryClassification ? "positive" : "band", FeatureColumns = ["x1", "x2", "color"], S3 = server.Settings,
            Schema =
            [
                new("x1", ColumnType.Number), new("x2", ColumnType.Number), new("color", ColumnType.String),
                new("positive", ColumnType.Boolean), new("band", ColumnType.String),
            ],
        };
        await new ModelTrainer(server.Store, TextWriter.Null).RunAsync(settings);
        return new ScoringModel(await ModelArtifact.LoadAsync(server.Store, settings.OutputUri));
    }

    private static async Task<TrainedModel> TrainAsync()
    {
        var server = await S3Server.SharedAsync();
        var bucket = await server.CreateUniqueBucketAsync("train");
        var dataset = bucket.Combine("datasets/retail.csv");
        await server.Store.PutBytesAsync(dataset, RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 3000, Seed = 7 }));
        var settings = RetailDatasetGenerator.TrainingPreset(dataset, bucket.Combine("runs/sales-1/"), server.Settings);
        var result = await new ModelTrainer(server.Store, TextWriter.Null).RunAsync(settings);
        var holdout = CsvTable.Parse(await server.Store.GetBytesAsync(settings.OutputUri.Combine(ModelManifest.HoldoutFileName)));
        return new TrainedModel(server, settings.OutputUri, result.ModelSha256, holdout);
    }
}
