using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cd4ml.Artifacts;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;

namespace Cd4ml.Serving.Tests;

public sealed partial class PredictionLogTests
{
    private TrainedModel model = null!;

    [OneTimeSetUp]
    public async Task TrainModel() => model = await ServingHarness.ModelAsync();

    [Test]
    public async Task Predict_AnswersAUniquePredictionIdPerRow_AndTheFirstInTheHeader()
    {
        await using var server = await StartReadyAsync(ServingHarness.Settings(model));
        var requests = ServingHarness.Requests(model.Holdout, 5);
        var ids = new List<string>();

        foreach (var body in new object[] { requests[0], requests[1], new { instances = requests } })
        {
            using var response = await ServingHarness.Http.PostAsync(new Uri(server.Address, "/predict"), Json(body));
            var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            var answered = answer.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("predictionId").GetString()!).ToList();
            Assert.That(response.Headers.GetValues(ModelServer.PredictionIdHeader).Single(), Is.EqualTo(answered[0]));
            ids.AddRange(answered);
        }

        Assert.That(ids, Has.Count.EqualTo(7));
        Assert.That(ids.Distinct().Count(), Is.EqualTo(7));
        Assert.That(ids, Has.All.Match("^[0-9a-f]{8}-[0-9a-f]+$"));
    }

    [Test]
    public async Task Logging_AtSampleRateOne_WritesEveryRowToS3_PerModelVersionAndHour_InTheTrainersCsvFormat()
    {
        var logs = await model.Server.CreateUniqueBucketAsync("logs");
        var settings = ServingHarness.Settings(model) with { LogSampleRate = 1, LogUri = logs, LogFlushInterval = TimeSpan.FromMilliseconds(300) };
        await using var server = await StartReadyAsync(settings);
        var requests = ServingHarness.Requests(model.Holdout, 20);

        var (code, body) = await ServingHarness.PostAsync(server.Address, "/predict", JsonSerializer.Serialize(new { instances = requests }));
        Assert.That(code, Is.EqualTo(HttpStatusCode.OK));
        var answered = body.GetProperty("predictions").EnumerateArray().ToList();

        var objects = await WaitForObjectsAsync(logs.Combine("predictions/"), 1);
        Assert.That(objects[0].Location.Key, Does.Match(@"^predictions/model=sales/version=sales-1/date=\d{4}-\d\d-\d\d/hour=\d\d/[a-z0-9.-]+-[0-9a-f]{8}-\d{6}\.csv$"));
        var table = CsvTable.Parse(await model.Server.Store.GetBytesAsync(objects[0].Location));
        var features = model.Holdout.Columns.Where(c => c != RetailDatasetGenerator.LabelColumn).ToList();
        Assert.That(table.Columns, Is.SupersetOf(features));
        Assert.That(table.Columns, Is.SupersetOf(new[] { "prediction", "score", "predictionId", "model", "version", "track", "deployment", "time" }));
        Assert.That(table.Rows, Has.Count.EqualTo(20));
        for (var row = 0; row < 20; row++)
        {
            string? Cell(string column) => table.Rows[row][table.IndexOf(column)];
            Assert.That(Cell("predictionId"), Is.EqualTo(answered[row].GetProperty("predictionId").GetString()));
            Assert.That(double.Parse(Cell("prediction")!, CultureInfo.InvariantCulture), Is.EqualTo(answered[row].GetProperty("score").GetDouble()));
            Assert.That((Cell("model"), Cell("version"), Cell("track")), Is.EqualTo(("sales", "sales-1", "stable")));
            foreach (var feature in features)
            {
                Assert.That(Cell(feature) ?? "", Is.EqualTo(Convert.ToString(requests[row][feature], CultureInfo.InvariantCulture) ?? ""), feature);
            }
        }

        Assert.That(await MetricAsync(server.Address, "cd4ml_prediction_log_rows_total", "kind=\"predictions\""), Is.EqualTo(20));
    }

    [Test]
    public async Task Logging_SingleRows_AndABatchWhoseInstancesComeAfterOtherFields_LogEachRowsFeatures()
    {
        var logs = await model.Server.CreateUniqueBucketAsync("logs");
        var settings = ServingHarness.Settings(model) with { LogSampleRate = 1, LogUri = logs, LogFlushInterval = TimeSpan.FromHours(1) };
        var server = await StartReadyAsync(settings);
        var requests = ServingHarness.Requests(model.Holdout, 3);
        try
        {
            foreach (var body in new[]
            {
                JsonSerializer.Serialize(requests[0]), JsonSerializer.Serialize(requests[1]),
                $$"""{"note": {"instances": 1}, "instances": [{{JsonSerializer.Serialize(requests[2])}}]}""",
            })
            {
                var (code, answer) = await ServingHarness.PostAsync(server.Address, "/predict", body);
                Assert.That(code, Is.EqualTo(HttpStatusCode.OK), answer.ToString());
            }
        }
        finally
        {
            await server.DisposeAsync();
        }

        var logged = await ObjectsAsync(logs.Combine("predictions/"));
        var table = CsvTable.Parse(await model.Server.Store.GetBytesAsync(logged.Single().Location));
        Assert.That(table.Rows, Has.Count.EqualTo(3));
        for (var row = 0; row < 3; row++)
        {
            foreach (var (feature, value) in requests[row])
            {
                Assert.That(table.Rows[row][table.IndexOf(feature)] ?? "", Is.EqualTo(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""), $"row {row} {feature}");
            }
        }
    }

    [Test]
    public async Task Logging_WhenS3Fails_PredictionsStillSucceed_AndTheLostRowsAreCountedAsDropped()
    {
        var missingBucket = S3Location.Parse($"s3://no-such-bucket-{Guid.NewGuid():N}/logs/");
        var settings = ServingHarness.Settings(model) with { LogSampleRate = 1, LogUri = missingBucket, LogFlushInterval = TimeSpan.FromMilliseconds(200) };
        await using var server = await StartReadyAsync(settings);

        foreach (var request in ServingHarness.Requests(model.Holdout, 10))
        {
            var (code, _) = await ServingHarness.PostAsync(server.Address, "/predict", JsonSerializer.Serialize(request));
            Assert.That(code, Is.EqualTo(HttpStatusCode.OK));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await MetricAsync(server.Address, "cd4ml_prediction_log_dropped_total", "kind=\"predictions\"") < 10 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.That(await MetricAsync(server.Address, "cd4ml_prediction_log_dropped_total", "kind=\"predictions\""), Is.EqualTo(10));
        Assert.That(await MetricAsync(server.Address, "cd4ml_prediction_log_rows_total", "kind=\"predictions\""), Is.EqualTo(0));
    }

    [Test]
    public async Task Feedback_JoinedToLoggedPredictions_ExportsLiveRmseAndMae_AndShutdownFlushesLogsAndFeedback()
    {
        var logs = await model.Server.CreateUniqueBucketAsync("logs");
        // An hour between timed flushes: whatever reaches S3 was written by the shutdown.
        var settings = ServingHarness.Settings(model) with { LogSampleRate = 1, LogUri = logs, LogFlushInterval = TimeSpan.FromHours(1) };
        var server = await StartReadyAsync(settings);
        double mae, rmse, matched, unknown;
        try
        {
            var (_, body) = await ServingHarness.PostAsync(server.Address, "/predict",
                JsonSerializer.Serialize(new { instances = ServingHarness.Requests(model.Holdout, 4) }));
            var predictions = body.GetProperty("predictions").EnumerateArray().ToList();
            // Errors (prediction - label) of -1, 1, -3, 3: MAE 2, RMSE sqrt(5).
            double[] offsets = [1, -1, 3, -3];
            var feedback = predictions.Select((p, i) => new { predictionId = p.GetProperty("predictionId").GetString()!, label = p.GetProperty("score").GetDouble() + offsets[i] })
                .Append(new { predictionId = "elsewhere-1", label = 5.0 }).ToArray();

            var (code, answer) = await ServingHarness.PostAsync(server.Address, "/feedback", JsonSerializer.Serialize(new { instances = feedback }));

            Assert.That(code, Is.EqualTo(HttpStatusCode.OK), answer.ToString());
            Assert.That(answer.ToString(), Is.EqualTo("""{"accepted":5,"matched":4,"unknown":1}"""));
            mae = await MetricAsync(server.Address, "cd4ml_live_mae", "version=\"sales-1\"");
            rmse = await MetricAsync(server.Address, "cd4ml_live_rmse", "version=\"sales-1\"");
            matched = await MetricAsync(server.Address, "cd4ml_feedback_total", "outcome=\"matched\"");
            unknown = await MetricAsync(server.Address, "cd4ml_feedback_total", "outcome=\"unknown\"");
            Assert.That(await ObjectsAsync(logs.Combine("predictions/")), Is.Empty);
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.That(mae, Is.EqualTo(2).Within(1e-9));
        Assert.That(rmse, Is.EqualTo(Math.Sqrt(5)).Within(1e-9));
        Assert.That((matched, unknown), Is.EqualTo((4.0, 1.0)));
        var logged = await ObjectsAsync(logs.Combine("predictions/"));
        Assert.That(logged, Has.Count.EqualTo(1));
        Assert.That(CsvTable.Parse(await model.Server.Store.GetBytesAsync(logged[0].Location)).Rows, Has.Count.EqualTo(4));
        var stored = await ObjectsAsync(logs.Combine("feedback/model=sales/version=sales-1/"));
        Assert.That(stored, Has.Count.EqualTo(1));
        var table = CsvTable.Parse(await model.Server.Store.GetBytesAsync(stored[0].Location));
        Assert.That(table.Columns, Is.EqualTo(new[] { "predictionId", "label", "time" }));
        Assert.That(table.Rows.Select(r => r[0]), Does.Contain("elsewhere-1"));
        Assert.That(table.Rows, Has.Count.EqualTo(5));
    }

    [TestCase("""{"label": 3}""", "predictionId", null, TestName = "Feedback_WithoutPredictionId_Is400NamingPredictionId")]
    [TestCase("""{"predictionId": 7, "label": 3}""", "predictionId", null, TestName = "Feedback_NumericPredictionId_Is400NamingPredictionId")]
    [TestCase("""{"predictionId": "a-1"}""", "label", null, TestName = "Feedback_WithoutLabel_Is400NamingLabel")]
    [TestCase("""{"predictionId": "a-1", "label": "many"}""", "label", null, TestName = "Feedback_NonNumericLabelForARegressionModel_Is400NamingLabel")]
    [TestCase("""{"instances": [{"predictionId": "a-1", "label": 1}, {"predictionId": "a-2"}]}""", "label", 1, TestName = "Feedback_BatchRowWithoutLabel_Is400NamingLabelAndRow")]
    [TestCase("""{"instances": []}""", "instances", null, TestName = "Feedback_EmptyBatch_Is400NamingInstances")]
    public async Task Feedback_RefusesBadBodies(string json, string field, int? row)
    {
        await using var server = await StartReadyAsync(ServingHarness.Settings(model));

        var (code, body) = await ServingHarness.PostAsync(server.Address, "/feedback", json);

        Assert.That(code, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("field").GetString(), Is.EqualTo(field));
        Assert.That(body.TryGetProperty("row", out var index) ? index.GetInt32() : (int?)null, Is.EqualTo(row));
    }

    [Test]
    public void LiveQuality_Classification_IsTheShareOfLabelsEqualToThePredictedLabel_OverTheLast1000()
    {
        var quality = new LiveQuality();
        var right = new Prediction(0.9, "high", 0.9);
        var wrong = new Prediction(0.6, "low", 0.6);

        Assert.That(quality.Add(false, [(right, "high"), (wrong, "mid"), (right, "high"), (right, "low")]).Primary, Is.EqualTo(0.5));
        Assert.That(quality.Add(false, Enumerable.Repeat((right, "high"), LiveQuality.Window)).Primary, Is.EqualTo(1));
    }

    [Test]
    public void CsvOutput_QuotesWhereNeeded_SoTheTrainersReaderGetsEveryValueBack()
    {
        string?[] values = ["plain", "a,b", "say \"hi\"", " padded ", "line\nbreak", "", "ünïcode"];
        var csv = new CsvOutput();
        csv.WriteRaw("c0,c1,c2,c3,c4,c5,c6\n"u8);
        foreach (var value in values)
        {
            csv.Field(value);
        }

        csv.EndLine();

        var table = CsvTable.Parse(csv.ToArray());

        Assert.That(table.Rows.Single(), Is.EqualTo(values.Select(v => v == "" ? null : v)));
    }

    private static async Task<ModelServer> StartReadyAsync(ServeSettings settings)
    {
        var server = await ServingHarness.StartAsync(settings);
        Assert.That((await ServingHarness.SettledAsync(server)).State, Is.EqualTo(ServingState.Ready), server.Status.Reason);
        return server;
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");

    private async Task<IReadOnlyList<ArtifactInfo>> ObjectsAsync(S3Location prefix) => await model.Server.Store.ListAsync(prefix);

    private async Task<IReadOnlyList<ArtifactInfo>> WaitForObjectsAsync(S3Location prefix, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var objects = await ObjectsAsync(prefix);
            if (objects.Count >= count || DateTime.UtcNow > deadline)
            {
                return objects;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The value of the one series of <paramref name="name"/> whose labels contain <paramref name="label"/>.</summary>
    private static async Task<double> MetricAsync(Uri address, string name, string label)
    {
        var text = await ServingHarness.Http.GetStringAsync(new Uri(address, "/metrics"));
        var line = text.Split('\n').Single(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
