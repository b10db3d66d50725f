using System.Globalization;
using System.Text;
using Cd4ml.Artifacts;
using Cd4ml.Testing;
using Cd4ml.Training.Datasets;

namespace Cd4ml.Training.Tests;

/// <summary>What the trainer does with imperfect data, and what it says about it.</summary>
public sealed class DataQualityTests
{
    private static readonly RetailDatasetOptions Retail = new() { Rows = 3000, Seed = 42 };
    private S3Server server = null!;
    private S3Location bucket = null!;

    [OneTimeSetUp]
    public async Task StartS3() => (server, bucket) = await TrainingHarness.BucketAsync();

    [Test]
    public async Task MissingLabelsDrop_DropsRowsWithAnEmptyLabel_AndCountsThemByReason()
    {
        var lines = RetailDatasetGenerator.Generate(Retail).Split('\n').ToArray();
        foreach (var row in new[] { 4, 17, 250 })
        {
            lines[row] = lines[row][..(lines[row].LastIndexOf(',') + 1)];
        }

        var returns = CsvTable.Parse(RetailDatasetGenerator.GenerateCsv(Retail)).Rows.Count(r => r[8]!.StartsWith('-'));
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, string.Join('\n', lines),
            (d, o) => RetailDatasetGenerator.TrainingPreset(d, o) with { MissingLabels = MissingLabelPolicy.Drop });

        var result = await TrainingHarness.TrainAsync(server, settings);

        Assert.That(result.Metrics["droppedRows.missingLabels"], Is.EqualTo(3));
        Assert.That(result.Metrics["droppedRows.filters"], Is.EqualTo(returns).Within(3), "blanked rows may have been returns");
        Assert.That(result.Metrics["droppedRows"], Is.EqualTo(result.Metrics["droppedRows.filters"] + 3));
        Assert.That(result.Metrics["trainRows"] + result.Metrics["validationRows"], Is.EqualTo(Retail.Rows - result.Metrics["droppedRows"]));
        Assert.That(result.Manifest.Dataset.DroppedRowsByReason["missingLabels"], Is.EqualTo(3));
        Assert.That(result.Manifest.MissingLabels, Is.EqualTo(MissingLabelPolicy.Drop));
    }

    [Test]
    public async Task HeaderOnlyDataset_FailsSayingItHasNoRows()
    {
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, "x,y\n", Regression);

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.SchemaViolation));
        Assert.That(error.Message, Does.Contain("has no rows: it holds only a header (x, y)"));
    }

    [Test]
    public async Task InferredSchema_AMostlyNumericColumnWithAFewTextValues_IsAViolationNamingRowsAndValues()
    {
        var csv = NumericCsv(200, (row, x) => row switch { 7 => "n/a", 50 => "?", _ => x });
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, csv, Regression);

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.SchemaViolation));
        Assert.That(error.Message, Does.Contain("column 'x': value that is not a valid Number in 2 rows (first: row 7 'n/a', row 50 '?')"));
        Assert.That(error.Message, Does.Contain("the schema was inferred").And.Contain("dataset.columns"));
    }

    [Test]
    public async Task InferredSchema_AMostlyNumericLabel_NamesTheRowAndValueThatAreNotNumbers()
    {
        var lines = NumericCsv(100, (_, x) => x).Split('\n');
        lines[12] = lines[12][..(lines[12].LastIndexOf(',') + 1)] + "unknown";
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, string.Join('\n', lines), Regression);

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings));

        Assert.That(error!.Message, Does.Contain("column 'y': value that is not a valid Number in 1 row (first: row 12 'unknown')"));
    }

    [Test]
    public async Task InferredSchema_ATextRegressionLabel_NamesTheRowsAndValues()
    {
        var lines = NumericCsv(20, (_, x) => x).Split('\n');
        for (var row = 1; row <= 10; row++)
        {
            lines[row] = lines[row][..(lines[row].LastIndexOf(',') + 1)] + (row % 2 == 0 ? "high" : "low");
        }

        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, string.Join('\n', lines), Regression);

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.SchemaViolation));
        Assert.That(error.Message, Does.Contain("'y' was inferred as String").And.Contain("10 rows (first: row 1 'low', row 2 'high', row 3 'low'"));
    }

    [Test]
    public async Task BinaryLabel_ThatIsNotABoolean_IsNamedByRowAndValue()
    {
        var lines = TrainingHarness.ClassificationCsv(300, 5).Split('\n');
        var fields = lines[12].Split(',');
        fields[3] = "maybe";
        lines[12] = string.Join(',', fields);
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, string.Join('\n', lines), (d, o) => new TrainingSettings
        {
            DatasetUri = d, OutputUri = o, Task = MlTask.BinaryClassification, LabelColumn = "positive", FeatureColumns = ["x1", "x2", "color"],
        });

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings));

        Assert.That(error!.Message, Does.Contain("column 'positive': binary label that is not true/false, 1/0 or yes/no in 1 row (first: row 12 'maybe')"));
    }

    [Test]
    public async Task InferredSchema_IsWrittenToMetricsAndManifest()
    {
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, NumericCsv(200, (_, x) => x), Regression);

        var result = await TrainingHarness.TrainAsync(server, settings);

        var metrics = MetricsDocument.Parse(await server.Store.GetBytesAsync(settings.OutputUri.Combine("metrics.json")));
        var manifest = ModelManifest.Parse(await server.Store.GetBytesAsync(settings.OutputUri.Combine("manifest.json")));
        var expected = new[] { new ColumnDefinition("x", ColumnType.Number), new("z", ColumnType.Integer), new("y", ColumnType.Number) };
        Assert.That(metrics.Schema, Is.EqualTo(expected));
        Assert.That(manifest.Schema, Is.EqualTo(expected));
        Assert.That((metrics.SchemaInferred, manifest.SchemaInferred), Is.EqualTo((true, true)));
        Assert.That(metrics.Hyperparameters, Is.EquivalentTo(result.Manifest.Hyperparameters));
    }

    [Test]
    public async Task Defaults_FitANonlinearSignalBetterThanTheFormerTenTreeDefaults()
    {
        // Friedman's regression problem #1 with unit noise: a standard benchmark shape, unlike the retail set the
        // former defaults (10 trees of 64 leaves at learning rate 0.6) were chosen on.
        var random = new Random(11);
        var csv = new StringBuilder("x1,x2,x3,x4,x5,y\n");
        for (var i = 0; i < 3000; i++)
        {
            var x = Enumerable.Range(0, 5).Select(_ => random.NextDouble()).ToArray();
            var noise = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            var y = 10 * Math.Sin(Math.PI * x[0] * x[1]) + 20 * Math.Pow(x[2] - 0.5, 2) + 10 * x[3] + 5 * x[4] + noise;
            csv.AppendJoin(',', x.Append(y).Select(v => v.ToString("F5", CultureInfo.InvariantCulture))).Append('\n');
        }

        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, csv.ToString(), Regression);

        var defaults = await TrainingHarness.TrainAsync(server, settings);
        var former = await TrainingHarness.TrainAsync(server, settings with
        {
            OutputUri = bucket.Combine($"runs/{Guid.NewGuid():N}/"),
            Hyperparameters = new Dictionary<string, string> { ["numberOfTrees"] = "10", ["numberOfLeaves"] = "64", ["learningRate"] = "0.6" },
        });

        Assert.That(defaults.Metrics["rmse"], Is.LessThan(former.Metrics["rmse"]));
        Assert.That(defaults.Manifest.Hyperparameters["numberOfTrees"], Is.EqualTo("100"));
    }

    private static TrainingSettings Regression(S3Location dataset, S3Location output) =>
        new() { DatasetUri = dataset, OutputUri = output, Task = MlTask.Regression, LabelColumn = "y" };

    /// <summary>x (Number, 4 decimals; <paramref name="x"/> may replace it per 1-based row), z (Integer), y = 3x + z.</summary>
    private static string NumericCsv(int rows, Func<int, string, string> x)
    {
        var csv = new StringBuilder("x,z,y\n");
        for (var row = 1; row <= rows; row++)
        {
            var value = row / (double)rows;
            csv.Append(CultureInfo.InvariantCulture, $"{x(row, value.ToString("F4", CultureInfo.InvariantCulture))},{row % 7},{3 * value + row % 7:F4}\n");
        }

        return csv.ToString();
    }
}
