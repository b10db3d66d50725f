using Cd4ml.Artifacts;
using Cd4ml.Testing;
using Parquet;
using Parquet.Schema;

namespace Cd4ml.Training.Tests;

/// <summary>Parquet datasets: read into the same columns as CSV, inferred and validated the same way, digested over the file.</summary>
public sealed class ParquetDatasetTests
{
    private S3Server server = null!;
    private S3Location bucket = null!;

    [OneTimeSetUp]
    public async Task StartS3() => (server, bucket) = await TrainingHarness.BucketAsync();

    [Test]
    public async Task Read_GivesCsvText_NullsAsEmptyCells_AndInfersTheSameTypesAsForCsv()
    {
        var table = await ParquetDataset.ReadAsync(new MemoryStream(await WriteAsync(rows: 4, unitsAsText: null)));

        Assert.That(table.Columns, Is.EqualTo(new[] { "date", "family", "price", "promo", "units" }));
        Assert.That(table.Rows[0], Is.EqualTo(new[] { "2024-01-01", "DAIRY", "0.5", "true", "0" }));
        Assert.That(table.Rows[1], Is.EqualTo(new[] { "2024-01-02T06:30:00Z", null, null, "false", "4" }), "row 1 holds the nulls");
        Assert.That(DatasetSchema.Infer(table).Select(c => (c.Name, c.Type, c.Nullable)), Is.EqualTo(new[]
        {
            ("date", ColumnType.Date, false), ("family", ColumnType.String, true), ("price", ColumnType.Number, true),
            ("promo", ColumnType.Boolean, false), ("units", ColumnType.Integer, false),
        }));
    }

    [Test]
    public async Task Train_OnAParquetDataset_DigestsTheFilesBytes()
    {
        var content = await WriteAsync(rows: 400, unitsAsText: null);
        var settings = await UploadAsync(content);

        var result = await TrainingHarness.TrainAsync(server, settings);

        Assert.That(result.DatasetDigest, Is.EqualTo(ContentDigest.Sha256Digest(content)));
        Assert.That(result.Manifest.Dataset.Rows, Is.EqualTo(400));
        Assert.That(result.Manifest.Schema.Single(c => c.Name == "date").Type, Is.EqualTo(ColumnType.Date));
        Assert.That(result.Metrics, Does.ContainKey("rmse"));
    }

    [Test]
    public async Task Train_OnAParquetFileOfSeveralRowGroups_ReadsThemInOrder_DigestsTheFile_AndRemovesItsSpooledCopy()
    {
        var x = new DataField<int>("x");
        var y = new DataField<double?>("y");
        using var output = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(x, y), output))
        {
            for (var g = 0; g < 3; g++)
            {
                using var group = writer.CreateRowGroup();
                var xs = Enumerable.Range(100 * g, 100).ToArray();
                await group.WriteAsync<int>(x, xs);
                await group.WriteAsync<double>(y, xs.Select(v => v == 150 ? (double?)null : 2.0 * (v % 10) + 1).ToArray());
            }
        }

        var content = output.ToArray();
        var table = await ParquetDataset.ReadAsync(new MemoryStream(content));
        Assert.That(Enumerable.Range(0, table.RowCount).Select(r => table.Cell(r, 0)), Is.EqualTo(Enumerable.Range(0, 300).Select(v => $"{v}")));
        Assert.That((table.Cell(150, 1), table.RowNumbers[299]), Is.EqualTo(((string?)null, 300)));

        var spool = Directory.CreateTempSubdirectory("cd4ml-spool-");
        var tmpdir = Environment.GetEnvironmentVariable("TMPDIR");
        Environment.SetEnvironmentVariable("TMPDIR", spool.FullName);
        try
        {
            var settings = await UploadAsync(content) with { LabelColumn = "y", MissingLabels = MissingLabelPolicy.Drop };

            var result = await TrainingHarness.TrainAsync(server, settings);

            Assert.That(result.DatasetDigest, Is.EqualTo(ContentDigest.Sha256Digest(content)));
            Assert.That((result.Manifest.Dataset.Rows, result.Metrics["droppedRows.missingLabels"]), Is.EqualTo((300, 1)));
            Assert.That(spool.EnumerateFileSystemInfos("cd4ml-dataset-*"), Is.Empty, "the spooled copy is deleted when read");
        }
        finally
        {
            Environment.SetEnvironmentVariable("TMPDIR", tmpdir);
            spool.Delete(recursive: true);
        }
    }

    [Test]
    public async Task Train_OnAParquetColumnThatBreaksTheSchema_NamesRowsAndValuesAsForCsv()
    {
        var settings = await UploadAsync(await WriteAsync(rows: 100, unitsAsText: row => row == 6 ? "n/a" : null));

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings with
        {
            Schema =
            [
                new("date", ColumnType.Date), new("family", ColumnType.String, Nullable: true), new("price", ColumnType.Number, Nullable: true),
                new("promo", ColumnType.Boolean), new("units", ColumnType.Integer),
            ],
        }));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.SchemaViolation));
        Assert.That(error.Message, Does.Contain("does not match the schema: column 'units': value that is not a valid Integer in 1 row (first: row 7 'n/a')"));
    }

    [Test]
    public async Task Train_OnAFileThatIsNotParquet_SaysSo()
    {
        var settings = await UploadAsync("x,y\n1,2\n"u8.ToArray());

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.SchemaViolation));
        Assert.That(error.Message, Does.Contain("is not a valid Parquet file"));
    }

    private async Task<TrainingSettings> UploadAsync(byte[] content)
    {
        var dataset = bucket.Combine($"datasets/{Guid.NewGuid():N}.parquet");
        await server.Store.PutBytesAsync(dataset, content);
        return new TrainingSettings
        {
            DatasetUri = dataset,
            OutputUri = bucket.Combine($"runs/{Guid.NewGuid():N}/"),
            Task = MlTask.Regression,
            LabelColumn = "units",
            S3 = server.Settings,
        };
    }

    /// <summary>
    /// date (DateTime: midnights, and a time in row 1), family (string, null in row 1), price (double?, null in row 1),
    /// promo (bool), units (int, = a function of price and promo; or strings when <paramref name="unitsAsText"/> is given,
    /// which may replace a row's value).
    /// </summary>
    private static async Task<byte[]> WriteAsync(int rows, Func<int, string?>? unitsAsText)
    {
        string[] families = ["DAIRY", "BREAD", "PRODUCE"];
        var date = new DataField<DateTime>("date");
        var family = new DataField<string>("family", true);
        var price = new DataField<double?>("price");
        var promo = new DataField<bool>("promo");
        DataField units = unitsAsText is null ? new DataField<int>("units") : new DataField<string>("units");
        var dates = Enumerable.Range(0, rows).Select(r => new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(r)
            .AddHours(r == 1 ? 6.5 : 0)).ToArray();
        var familyValues = Enumerable.Range(0, rows).Select(r => r == 1 ? null : families[r % 3]).ToArray();
        var prices = Enumerable.Range(0, rows).Select(r => r == 1 ? (double?)null : 0.5 + r % 10).ToArray();
        var promos = Enumerable.Range(0, rows).Select(r => r % 4 == 0).ToArray();
        var unitValues = Enumerable.Range(0, rows).Select(r => (int)(2 * (prices[r] ?? 1)) + (promos[r] ? 0 : 3) - 1).ToArray();

        using var output = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(date, family, price, promo, units), output))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<DateTime>(date, dates);
            await group.WriteAsync(family, familyValues);
            await group.WriteAsync<double>(price, prices);
            await group.WriteAsync<bool>(promo, promos);
            if (unitsAsText is null)
            {
                await group.WriteAsync<int>(units, unitValues);
            }
            else
            {
                await group.WriteAsync(units, unitValues.Select((u, r) => unitsAsText(r) ?? u.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
            }
        }

        return output.ToArray();
    }
}
