using System.Globalization;
using System.Text;
using Cd4ml.Artifacts;
using Cd4ml.Testing;

namespace Cd4ml.Training.Tests;

/// <summary>dataset.fromFeedback: logged predictions joined with feedback labels, appended to the dataset (against s3rver).</summary>
public sealed class FeedbackCurationTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 30, 0, TimeSpan.Zero);
    private static readonly string[] Columns = ["x", "z", "color", "y"];
    private const string PredictionHeader = "x,z,prediction,score,predictionId,model,version,track,deployment,time";
    private S3Server server = null!;
    private S3Location bucket = null!;

    [OneTimeSetUp]
    public async Task StartS3() => (server, bucket) = await TrainingHarness.BucketAsync();

    private S3Location NewLog() => bucket.Combine($"logs/{Guid.NewGuid():N}/");

    /// <summary>A logged prediction row as the model server writes it (features x and z; color is not a feature).</summary>
    private static string Logged(string id, double x, int z, DateTimeOffset time) =>
        string.Create(CultureInfo.InvariantCulture, $"{x},{z},{3 * x + z},{3 * x + z},{id},sales,sales-1,stable,sales-api,{Stamp(time)}");

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private async Task<S3Location> PutAsync(S3Location log, string kind, DateTimeOffset hour, string file, string header, params string[] rows)
    {
        var location = log.Combine($"{kind}/model=sales/version=sales-1/date={hour:yyyy-MM-dd}/hour={hour:HH}/{file}.csv");
        await server.Store.PutBytesAsync(location, Encoding.UTF8.GetBytes(header + "\n" + string.Join("", rows.Select(r => r + "\n"))));
        return location;
    }

    private Task<S3Location> PredictionsAsync(S3Location log, DateTimeOffset hour, string file, params string[] rows) =>
        PutAsync(log, FeedbackCuration.PredictionsFolder, hour, file, PredictionHeader, rows);

    private Task<S3Location> FeedbackAsync(S3Location log, DateTimeOffset hour, string file, params (string Id, string Label, DateTimeOffset Time)[] rows) =>
        PutAsync(log, FeedbackCuration.FeedbackFolder, hour, file, "predictionId,label,time",
            rows.Select(r => $"{r.Id},{r.Label},{Stamp(r.Time)}").ToArray());

    private static FeedbackSource Source(S3Location log, TimeSpan? window = null, int maxRows = FeedbackSource.DefaultMaxRows) =>
        new(log.ToString(), "sales", (long)(window ?? TimeSpan.FromHours(168)).TotalSeconds, maxRows, "sales-api");

    [Test]
    public async Task Collect_JoinsPredictionsWithTheirLatestFeedback_LabelFromFeedback_UnloggedColumnsEmpty_PredictionsWithoutFeedbackLeftOut()
    {
        var log = NewLog();
        var hour = Now.AddHours(-2);
        var predictions = await PredictionsAsync(log, hour, "pod-a-000001",
            Logged("a-1", 0.5, 1, hour.AddMinutes(1)), Logged("a-2", 0.25, 2, hour.AddMinutes(2)), Logged("a-3", 0.75, 3, hour.AddMinutes(3)));
        var early = await FeedbackAsync(log, hour, "pod-a-000002", ("a-1", "9", hour.AddMinutes(5)), ("a-2", "4.5", hour.AddMinutes(5)));
        // A correction of a-1 an hour later wins; an empty label (a-2's second feedback) is not a label.
        var late = await FeedbackAsync(log, hour.AddHours(1), "pod-a-000003", ("a-1", "2.5", hour.AddMinutes(65)), ("a-2", "", hour.AddMinutes(66)));

        var rows = await FeedbackCuration.CollectAsync(server.Store, Source(log), Columns, "y", Now);

        Assert.That(rows.Rows.Select(r => string.Join(",", r.Select(v => v ?? "∅"))), Is.EqualTo(new[] { "0.5,1,∅,2.5", "0.25,2,∅,4.5" }),
            "a-3 has no feedback; the label column holds the feedback label, not the prediction");
        Assert.That(rows.Objects, Is.EqualTo(new[] { predictions.ToString(), early.ToString(), late.ToString() }));
    }

    [Test]
    public async Task Collect_SkipsObjectsWhosHourPartitionEndedBeforeTheWindow_AndRowsOlderThanTheWindow()
    {
        var log = NewLog();
        var window = TimeSpan.FromHours(3); // from 09:30
        var old = Now.AddHours(-5);
        var edge = new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);
        var recent = Now.AddHours(-1);
        var oldObject = await PredictionsAsync(log, old, "pod-a-000001", Logged("old-1", 0.1, 1, old));
        await PredictionsAsync(log, edge, "pod-a-000002", Logged("edge-1", 0.2, 1, edge.AddMinutes(10)), Logged("edge-2", 0.3, 1, edge.AddMinutes(45)));
        await PredictionsAsync(log, recent, "pod-a-000003", Logged("new-1", 0.4, 1, recent));
        await FeedbackAsync(log, recent, "pod-a-000004", ("old-1", "1", recent), ("edge-1", "2", recent), ("edge-2", "3", recent), ("new-1", "4", recent));

        var rows = await FeedbackCuration.CollectAsync(server.Store, Source(log, window), Columns, "y", Now);

        Assert.That(rows.Rows.Select(r => r[3]), Is.EqualTo(new[] { "3", "4" }), "edge-1 (09:10) is older than the window; edge-2 (09:45) is not");
        Assert.That(rows.Objects, Has.Count.EqualTo(3).And.No.Contain(oldObject.ToString()), "the 07:00 partition is not read");
    }

    [Test]
    public async Task Collect_MaxRows_KeepsTheNewestRows_OldestFirst()
    {
        var log = NewLog();
        var hour = Now.AddHours(-1);
        await PredictionsAsync(log, hour, "pod-a-000001", Enumerable.Range(0, 5).Select(i => Logged($"a-{i}", i, i, hour.AddMinutes(10 - i))).ToArray());
        await FeedbackAsync(log, hour, "pod-a-000002", Enumerable.Range(0, 5).Select(i => ($"a-{i}", $"{i}", Now)).ToArray());

        var rows = await FeedbackCuration.CollectAsync(server.Store, Source(log, maxRows: 2), Columns, "y", Now);

        Assert.That(rows.Rows.Select(r => r[3]), Is.EqualTo(new[] { "1", "0" }), "a-0 and a-1 were logged last; a-1 first");
    }

    [Test]
    public async Task Collect_MaxRows_AcrossObjects_KeepsTheNewestByTime_ALaterObjectCountingNewerOnEqualTimes_ADuplicateKeepingItsFirstRow()
    {
        var log = NewLog();
        var (ten, eleven) = (Now.AddHours(-2).AddMinutes(-30), Now.AddHours(-1).AddMinutes(-30));
        await PredictionsAsync(log, ten, "pod-a-000001", Logged("a-1", 1, 1, ten.AddMinutes(5)), Logged("a-2", 2, 2, ten.AddMinutes(50)));
        await PredictionsAsync(log, eleven, "pod-a-000002", Logged("a-3", 3, 3, ten.AddMinutes(50)), Logged("a-4", 4, 4, ten));
        await PredictionsAsync(log, eleven, "pod-b-000001", Logged("a-5", 5, 5, ten.AddMinutes(40)), Logged("a-1", 11, 11, eleven.AddMinutes(59)),
            Logged("a-6", 6, 6, eleven.AddMinutes(10)));
        await FeedbackAsync(log, eleven, "pod-a-000003", Enumerable.Range(1, 6).Select(i => ($"a-{i}", $"{i}", Now)).ToArray());

        var rows = await FeedbackCuration.CollectAsync(server.Store, Source(log, maxRows: 2), Columns, "y", Now);

        Assert.That(rows.Rows.Select(r => r[3]), Is.EqualTo(new[] { "3", "6" }),
            "a-2 and a-3 were both logged at 10:50, a-3 in a later object; a-1's second row (11:59) is a duplicate and does not count");
    }

    [Test]
    public async Task Collect_KeepsExactlyWhatSortingEveryJoinedRowByTimeWould_OverManyObjectsWithTiesDuplicatesAndCorrections()
    {
        var log = NewLog();
        var random = new Random(11);
        var times = Enumerable.Range(0, 9).Select(s => Now.AddHours(-5).AddMinutes(30 * s)).ToArray(); // few distinct times: many ties
        var predictions = Enumerable.Range(0, 12)
            .Select(k => Enumerable.Range(0, 6).Select(j => (Id: $"p-{random.Next(40)}", X: k + j / 10.0, Z: k, Time: times[random.Next(times.Length)])).ToList())
            .ToList();
        var feedback = Enumerable.Range(0, 4)
            .Select(_ => Enumerable.Range(0, 15).Select(_ => (Id: $"p-{random.Next(50)}", Label: random.Next(4) == 0 ? "" : $"{random.Next(100)}",
                Time: times[random.Next(times.Length)])).ToList())
            .ToList();
        for (var k = 0; k < predictions.Count; k++)
        {
            await PredictionsAsync(log, Now.AddHours(-5 + k / 3), $"pod-a-{k:D6}", predictions[k].Select(p => Logged(p.Id, p.X, p.Z, p.Time)).ToArray());
        }

        for (var k = 0; k < feedback.Count; k++)
        {
            await FeedbackAsync(log, Now.AddHours(-4 + k), $"pod-b-{k:D6}", feedback[k].ToArray());
        }

        // What collecting meant before streaming: every label, then every joined row, sorted by time (stably), the last kept.
        var labels = new Dictionary<string, (DateTimeOffset Time, string Label)>();
        foreach (var (id, label, time) in feedback.SelectMany(f => f).Where(f => f.Label != ""))
        {
            if (!labels.TryGetValue(id, out var known) || time >= known.Time)
            {
                labels[id] = (time, label);
            }
        }

        var seen = new HashSet<string>();
        var joined = predictions.SelectMany(p => p).Where(p => labels.ContainsKey(p.Id) && seen.Add(p.Id))
            .Select(p => (p.Time, Row: string.Create(CultureInfo.InvariantCulture, $"{p.X},{p.Z},∅,{labels[p.Id].Label}")))
            .ToList();
        const int maxRows = 10;
        Assert.That(joined, Has.Count.GreaterThan(2 * maxRows), "the data must exceed maxRows to test it");

        var rows = await FeedbackCuration.CollectAsync(server.Store, Source(log, maxRows: maxRows), Columns, "y", Now);

        Assert.That(rows.Rows.Select(r => string.Join(",", r.Select(v => v ?? "∅"))), Is.EqualTo(joined.OrderBy(j => j.Time).TakeLast(maxRows).Select(j => j.Row)));
        Assert.That(rows.Objects, Has.Count.EqualTo(16));
    }

    [Test]
    public async Task Collect_ReadsTheObjectsInKeyOrder_DownloadingAtMostEightAheadOfTheOneBeingJoined_NotTheWholeWindow()
    {
        var log = NewLog();
        const int objects = 24;
        var predictions = new List<S3Location>();
        for (var i = 0; i < objects; i++)
        {
            var hour = Now.AddHours(-3 + i / 8);
            predictions.Add(await PredictionsAsync(log, hour, $"pod-a-{i:D6}", Logged($"a-{i}", i, i, hour.AddMinutes(i % 8))));
        }

        var feedback = await FeedbackAsync(log, Now.AddHours(-1), "pod-a-000001", Enumerable.Range(0, objects).Select(i => ($"a-{i}", $"{i}", Now)).ToArray());
        // The first prediction object's download is held until more downloads have started than the read-ahead allows (or a
        // second has passed): streaming, the others cannot start before that object is joined and dropped.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var startedWhileHeld = 0;
        var store = new ArtifactStore(ObservedObjectReads.Wrap(server.Client, async (key, cancellationToken) =>
        {
            if (key == predictions[0].Key)
            {
                await Task.WhenAny(release.Task, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken));
                release.TrySetResult();
            }
            else if (key.Contains($"/{FeedbackCuration.PredictionsFolder}/") && !release.Task.IsCompleted && Interlocked.Increment(ref startedWhileHeld) > 7)
            {
                release.TrySetResult();
            }
        }));

        var rows = await FeedbackCuration.CollectAsync(store, Source(log), Columns, "y", Now);

        Assert.That(startedWhileHeld, Is.EqualTo(7), "the next seven objects download ahead, and no more, while the first is not joined yet");
        Assert.That(rows.Rows.Select(r => r[3]), Is.EqualTo(Enumerable.Range(0, objects).Select(i => $"{i}")), "every object joined, oldest first");
        Assert.That(rows.Objects, Is.EqualTo(predictions.Append(feedback).Select(o => o.ToString())));
    }

    [Test]
    public async Task Collect_Cancelled_WhileAnObjectDownloads_Throws_AndStopsTheReadAhead()
    {
        var log = NewLog();
        var hour = Now.AddHours(-1);
        for (var i = 0; i < 12; i++)
        {
            await PredictionsAsync(log, hour, $"pod-a-{i:D6}", Logged($"a-{i}", i, i, hour));
        }

        await FeedbackAsync(log, hour, "pod-a-000001", ("a-0", "0", Now));
        using var cancel = new CancellationTokenSource();
        var (started, stopped) = (0, 0);
        var store = new ArtifactStore(ObservedObjectReads.Wrap(server.Client, async (key, cancellationToken) =>
        {
            if (key.Contains($"/{FeedbackCuration.PredictionsFolder}/"))
            {
                Interlocked.Increment(ref started);
                _ = Task.Run(cancel.Cancel);
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }
                finally
                {
                    Interlocked.Increment(ref stopped);
                }
            }
        }));

        Assert.That(async () => await FeedbackCuration.CollectAsync(store, Source(log), Columns, "y", Now, cancel.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That((started, stopped), Is.EqualTo((started, started)), "every download in flight was stopped before Collect returned");
        Assert.That(started, Is.InRange(1, 8));
    }

    [Test]
    public async Task Collect_AnInvalidObjectAfterValidOnes_FailsNamingIt()
    {
        var log = NewLog();
        var hour = Now.AddHours(-1);
        for (var i = 0; i < 10; i++)
        {
            await PredictionsAsync(log, hour, $"pod-a-{i:D6}", Logged($"a-{i}", i, i, hour));
        }

        var broken = await PutAsync(log, FeedbackCuration.PredictionsFolder, hour, "pod-b-000001", "x,predictionId,time", "1,\"b-1,unterminated");
        await FeedbackAsync(log, hour, "pod-a-000001", ("a-0", "0", Now));

        var error = Assert.ThrowsAsync<TrainingException>(() => FeedbackCuration.CollectAsync(server.Store, Source(log), Columns, "y", Now))!;
        Assert.That(error.Message, Does.StartWith($"The log object {broken} is not a valid CSV"));
    }

    [Test]
    public async Task Curate_AppendsProductionRows_WritesTheCuratedDatasetUnderTheOutput_WithTheDigestOfItsBytes()
    {
        var log = NewLog();
        var hour = Now.AddHours(-1);
        await PredictionsAsync(log, hour, "pod-a-000001", Logged("a-1", 0.5, 1, hour));
        await FeedbackAsync(log, hour, "pod-a-000002", ("a-1", "2.5", Now));
        var output = bucket.Combine($"runs/{Guid.NewGuid():N}/");
        var settings = Settings(output) with { FromFeedback = Source(log) };
        var dataset = CsvTable.Parse("x,z,color,y\n0.1,1,red,1.3\n0.2,2,blue,2.6\n");

        var (table, production) = await FeedbackCuration.CurateAsync(server.Store, settings, dataset, Now, TextWriter.Null);

        var curated = output.Combine(FeedbackCuration.CuratedFileName);
        var stored = await server.Store.GetBytesAsync(curated);
        Assert.That(Encoding.UTF8.GetString(stored), Is.EqualTo("x,z,color,y\n0.1,1,red,1.3\n0.2,2,blue,2.6\n0.5,1,,2.5\n"));
        Assert.That(table.Rows, Has.Count.EqualTo(3));
        Assert.That(production.CuratedDatasetUri, Is.EqualTo(curated.ToString()));
        Assert.That(production.CuratedDatasetDigest, Is.EqualTo(ContentDigest.Sha256Digest(stored)));
        Assert.That((production.Rows, production.Deployment, production.WindowSeconds, production.Objects.Count), Is.EqualTo((1, "sales-api", 604800L, 2)));
    }

    [Test]
    public async Task Curate_AppendsToALargeDatasetColumnByColumn_AllocatingLessThanAStringArrayPerDatasetRow()
    {
        var log = NewLog();
        var hour = Now.AddHours(-1);
        await PredictionsAsync(log, hour, "pod-a-000001", Logged("a-1", 0.5, 1, hour));
        await FeedbackAsync(log, hour, "pod-a-000002", ("a-1", "2.5", Now));
        const int rows = 100_000;
        var csv = new StringBuilder("x,z,color,y\n");
        for (var i = 0; i < rows; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{i % 10},{i % 4},{(i % 2 == 0 ? "r" : "b")},{i % 7}\n");
        }

        var dataset = CsvTable.Parse(csv.ToString());
        var output = bucket.Combine($"runs/{Guid.NewGuid():N}/");

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var (table, _) = await FeedbackCuration.CurateAsync(server.Store, Settings(output) with { FromFeedback = Source(log) }, dataset, Now, TextWriter.Null);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.That(table.RowCount, Is.EqualTo(rows + 1));
        Assert.That(table.Cell(rows, 0), Is.EqualTo("0.5"));
        var rowArrays = (long)rows * (24 + 8 * Columns.Length);
        Assert.That(allocated, Is.LessThan(rowArrays), "the dataset's columns are copied as codes and written as CSV from them, never as a string?[] per row");
        var stored = await server.Store.GetBytesAsync(output.Combine(FeedbackCuration.CuratedFileName));
        Assert.That(Encoding.UTF8.GetString(stored), Is.EqualTo(csv + "0.5,1,,2.5\n"));
    }

    [Test]
    public async Task Curate_NoProductionRows_TrainsOnTheDatasetAlone_AndWritesNoCuratedDataset()
    {
        var log = NewLog();
        await PredictionsAsync(log, Now.AddHours(-1), "pod-a-000001", Logged("a-1", 0.5, 1, Now.AddHours(-1)));
        var output = bucket.Combine($"runs/{Guid.NewGuid():N}/");
        var dataset = CsvTable.Parse("x,z,color,y\n0.1,1,red,1.3\n");
        var said = new StringWriter();

        var (table, production) = await FeedbackCuration.CurateAsync(server.Store, Settings(output) with { FromFeedback = Source(log) }, dataset, Now, said);

        Assert.That(table, Is.SameAs(dataset));
        Assert.That((production.Rows, production.CuratedDatasetUri, production.Objects.Count), Is.EqualTo((0, (string?)null, 1)));
        Assert.That(await server.Store.ExistsAsync(output.Combine(FeedbackCuration.CuratedFileName)), Is.False);
        Assert.That(said.ToString(), Does.Contain("No logged predictions with feedback in the last 168h"));
    }

    [Test]
    public async Task Trainer_WithFromFeedback_RecordsProductionLineageInTheManifest_AndProductionRowsInTheMetrics_KeepingTheBaseDatasetDigest()
    {
        var log = NewLog();
        var hour = Now.AddHours(-1);
        var random = new Random(7);
        var logged = Enumerable.Range(0, 40).Select(i => (Id: $"p-{i}", X: Math.Round(random.NextDouble(), 4), Z: random.Next(1, 5))).ToList();
        await PredictionsAsync(log, hour, "pod-a-000001", logged.Select(l => Logged(l.Id, l.X, l.Z, hour.AddMinutes(1))).ToArray());
        await FeedbackAsync(log, hour, "pod-a-000002", logged.Select(l => (l.Id, (3 * l.X + l.Z).ToString(CultureInfo.InvariantCulture), Now)).ToArray());
        var csv = new StringBuilder("x,z,color,y\n");
        for (var i = 0; i < 200; i++)
        {
            var (x, z) = (Math.Round(random.NextDouble(), 4), random.Next(1, 5));
            csv.Append(CultureInfo.InvariantCulture, $"{x},{z},{(i % 2 == 0 ? "red" : "blue")},{3 * x + z}\n");
        }

        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, csv.ToString(), (d, o) => Settings(o) with { DatasetUri = d });
        var result = await new ModelTrainer(server.Store, TextWriter.Null, new FixedTime(Now))
            .RunAsync(settings with { FromFeedback = Source(log), Schema = [new("x", ColumnType.Number), new("z", ColumnType.Integer), new("color", ColumnType.String, Nullable: true), new("y", ColumnType.Number)] });

        var production = result.Manifest.Production!;
        Assert.That(production.Rows, Is.EqualTo(40));
        Assert.That(result.Metrics[ModelTrainer.ProductionRowsMetric], Is.EqualTo(40));
        Assert.That(result.Manifest.Dataset.Digest, Is.EqualTo(ContentDigest.Sha256Digest(Encoding.UTF8.GetBytes(csv.ToString()))),
            "the dataset digest stays the base dataset's: retrainOnDatasetChange compares it");
        Assert.That(result.Manifest.Dataset.Rows, Is.EqualTo(240));
        Assert.That(production.CuratedDatasetDigest, Is.EqualTo(ContentDigest.Sha256Digest(await server.Store.GetBytesAsync(S3Location.Parse(production.CuratedDatasetUri!)))));
        var stored = ModelManifest.Parse(await server.Store.GetBytesAsync(settings.OutputUri.Combine(ModelManifest.FileName)));
        Assert.That(stored.Production, Is.EqualTo(production).Using<ProductionData>((a, b) =>
            a.CuratedDatasetUri == b.CuratedDatasetUri && a.Rows == b.Rows && a.Objects.SequenceEqual(b.Objects)));
    }

    [Test]
    public void Settings_FromFeedback_RoundTripsThroughTheEnvironment_AndRejectsANonPrefixLogUri()
    {
        var settings = Settings(bucket.Combine("runs/x/")) with { FromFeedback = Source(bucket.Combine("logs/a/")) };
        var environment = settings.ToEnvironment().ToDictionary(e => e.Key, e => (string?)e.Value);
        Assert.That(environment[TrainingSettings.FromFeedbackVariable], Does.Contain("\"windowSeconds\":604800"));
        Assert.That(TrainingSettings.FromEnvironment(environment).FromFeedback, Is.EqualTo(settings.FromFeedback));

        environment[TrainingSettings.FromFeedbackVariable] = """{"logUri":"s3://logs/a","model":"sales","windowSeconds":60,"maxRows":1}""";
        var error = Assert.Throws<TrainingException>(() => TrainingSettings.FromEnvironment(environment))!;
        Assert.That(error.Message, Does.Contain(TrainingSettings.FromFeedbackVariable).And.Contain("ending in '/'"));
    }

    private static TrainingSettings Settings(S3Location output) => new()
    {
        DatasetUri = output.Combine("unused.csv"), OutputUri = output, Task = MlTask.Regression, LabelColumn = "y",
    };

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
