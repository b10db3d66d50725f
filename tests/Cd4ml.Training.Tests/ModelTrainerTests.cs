using System.Text;
using System.Text.Json;
using Cd4ml.Artifacts;
using Cd4ml.Testing;
using Cd4ml.Training.Datasets;
using Cd4ml.Training.Scoring;

namespace Cd4ml.Training.Tests;

public sealed class ModelTrainerTests
{
    private static readonly RetailDatasetOptions Retail = new() { Rows = 3000, Seed = 42 };
    private S3Server server = null!;
    private S3Location bucket = null!;

    [OneTimeSetUp]
    public async Task StartS3() => (server, bucket) = await TrainingHarness.BucketAsync();

    [Test]
    public async Task Train_WritesAllArtifacts_WithTheirSha256InTheManifest()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, Retail);

        var result = await TrainingHarness.TrainAsync(server, settings);

        var listed = (await server.Store.ListAsync(settings.OutputUri)).Select(i => i.Location.Name).ToList();
        Assert.That(listed, Is.EquivalentTo(new[] { "model.zip", "metrics.json", "holdout.csv", "profile.json", "manifest.json" }));
        var manifest = ModelManifest.Parse(await server.Store.GetBytesAsync(settings.OutputUri.Combine("manifest.json")));
        Assert.That(manifest.Artifacts.Keys, Is.EquivalentTo(listed.Where(n => n != "manifest.json")));
        foreach (var (name, entry) in manifest.Artifacts)
        {
            var location = settings.OutputUri.Combine(name);
            Assert.That(entry.Sha256, Is.EqualTo(await server.Store.ComputeSha256Async(location)), name);
            Assert.That(entry.Uri, Is.EqualTo(location.ToString()));
        }

        var datasetBytes = await server.Store.GetBytesAsync(settings.DatasetUri);
        Assert.That(manifest.Dataset.Digest, Is.EqualTo(ContentDigest.Sha256Digest(datasetBytes)));
        Assert.That(result.DatasetDigest, Is.EqualTo(manifest.Dataset.Digest));
        Assert.That(result.ModelSha256, Is.EqualTo(manifest.Artifacts["model.zip"].Sha256));
        Assert.That((manifest.Task, manifest.Algorithm, manifest.LabelColumn.Name), Is.EqualTo((MlTask.Regression, TrainingAlgorithm.LightGbm, "unit_sales")));
        Assert.That(manifest.FeatureColumns.Select(c => c.Name), Does.Not.Contain("unit_sales").And.Contain("date").And.Contain("family"));
        Assert.That(manifest.TrainerVersion, Is.Not.Empty);
        Assert.That(result.Metrics["r2"], Is.GreaterThan(0.5), "the generated sales are learnable");
        Assert.That(result.Metrics.Keys, Is.SupersetOf(new[] { "rmse", "mae", "r2", "nwrmsle", "trainRows", "validationRows", "droppedRows" }));
    }

    [Test]
    public async Task Train_DropsReturnsWithTheFilter_AndCountsThem()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, Retail);
        var returns = CsvTable.Parse(RetailDatasetGenerator.GenerateCsv(Retail)).Rows.Count(r => r[8]!.StartsWith('-'));

        var result = await TrainingHarness.TrainAsync(server, settings);

        Assert.That(returns, Is.GreaterThan(0));
        Assert.That(result.Metrics["droppedRows"], Is.EqualTo(returns));
        Assert.That(result.Metrics["trainRows"] + result.Metrics["validationRows"], Is.EqualTo(Retail.Rows - returns));
    }

    [Test]
    public async Task Train_FailsWithSchemaViolation_NamingColumnAndRows_WhenLabelHasNulls()
    {
        var lines = RetailDatasetGenerator.Generate(Retail).Split('\n').ToArray();
        foreach (var row in new[] { 4, 17, 250 })
        {
            lines[row] = lines[row][..(lines[row].LastIndexOf(',') + 1)];
        }

        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, string.Join('\n', lines),
            (d, o) => RetailDatasetGenerator.TrainingPreset(d, o));

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.SchemaViolation));
        Assert.That(error.Message, Does.Contain("'unit_sales'").And.Contain("3 rows").And.Contain("rows 4, 17, 250"));
        Assert.That(error.Message, Does.Contain("dataset.missingLabels: Drop (CD4ML_MISSING_LABELS=Drop)"), "the message names the option that fixes it");
    }

    [Test]
    public async Task Train_FailsWithSchemaViolation_NamingColumnRowsAndCount_ForBadTypesAndRanges()
    {
        var table = CsvTable.Parse(RetailDatasetGenerator.Generate(Retail with { ReturnRate = 0 }));
        var rows = table.Rows.Select(r => (string?[])r.Clone()).ToList();
        rows[1][1] = "store-two";   // row 2: store_nbr not an Integer
        rows[9][6] = "7";           // row 10: perishable above max 1
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, new CsvTable(table.Columns, rows).ToCsv(),
            (d, o) => RetailDatasetGenerator.TrainingPreset(d, o));

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.SchemaViolation));
        Assert.That(error.Message, Does.Contain("column 'store_nbr': value that is not a valid Integer in 1 row (first: row 2 'store-two')"));
        Assert.That(error.Message, Does.Contain("column 'perishable': value outside [0, 1] in 1 row (first: row 10)"));
    }

    [Test]
    public async Task Train_FailsWithSchemaViolation_WhenASchemaColumnIsMissing()
    {
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, "date,unit_sales\n2016-01-01,3\n2016-01-02,4\n",
            (d, o) => RetailDatasetGenerator.TrainingPreset(d, o));

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.SchemaViolation));
        Assert.That(error.Message, Does.Contain("column 'store_nbr': missing from the dataset"));
    }

    [Test]
    public async Task Train_FailsWithDatasetDigestMismatch_WhenTheDatasetChanged()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, Retail);
        var wrong = "sha256:" + new string('0', 64);

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings with { DatasetDigest = wrong }));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.DatasetDigestMismatch));
        Assert.That(error.Message, Does.Contain(wrong).And.Contain("sha256:"));
        Assert.That(await server.Store.ExistsAsync(settings.OutputUri.Combine("manifest.json")), Is.False);
    }

    [Test]
    public async Task Train_AcceptsTheDataset_WhenTheExpectedDigestMatches()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, Retail with { Rows = 1000 });
        var digest = ContentDigest.Sha256Digest(RetailDatasetGenerator.GenerateCsv(Retail with { Rows = 1000 }));

        var result = await TrainingHarness.TrainAsync(server, settings with { DatasetDigest = digest });

        Assert.That(result.DatasetDigest, Is.EqualTo(digest));
    }

    [Test]
    public void Train_FailsWithDatasetNotFound_WhenTheObjectIsMissing()
    {
        var settings = RetailDatasetGenerator.TrainingPreset(bucket.Combine("datasets/missing.csv"), bucket.Combine("runs/missing/"), server.Settings);

        var error = Assert.ThrowsAsync<TrainingException>(() => TrainingHarness.TrainAsync(server, settings));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.DatasetNotFound));
        Assert.That(error.Message, Does.Contain("datasets/missing.csv"));
    }

    [TestCase(TrainingAlgorithm.FastTree)]
    [TestCase(TrainingAlgorithm.LightGbm)]
    [TestCase(TrainingAlgorithm.Sdca)]
    public async Task Train_GivesIdenticalMetricsAndAByteIdenticalModel_ForTheSameSeed_WithARandomSplit(TrainingAlgorithm algorithm)
    {
        var settings = (await TrainingHarness.UploadRetailAsync(server, bucket, Retail with { Rows = 2000 })) with
        {
            Algorithm = algorithm,
            Split = new SplitSettings(SplitMethod.Random, 0.25, 7),
        };

        var first = await TrainingHarness.TrainAsync(server, settings);
        var second = await TrainingHarness.TrainAsync(server, settings with { OutputUri = bucket.Combine($"runs/{Guid.NewGuid():N}/") });
        var otherSeed = await TrainingHarness.TrainAsync(server, settings with
        {
            OutputUri = bucket.Combine($"runs/{Guid.NewGuid():N}/"),
            Split = settings.Split with { Seed = 8 },
        });

        Assert.That(second.Metrics, Is.EqualTo(first.Metrics));
        Assert.That(second.ModelSha256, Is.EqualTo(first.ModelSha256), "model.zip is byte-identical, so its sha256 proves the run repeats");
        Assert.That(await server.Store.GetBytesAsync(second.OutputUri.Combine("model.zip")),
            Is.EqualTo(await server.Store.GetBytesAsync(first.OutputUri.Combine("model.zip"))));
        Assert.That(otherSeed.Metrics["rmse"], Is.Not.EqualTo(first.Metrics["rmse"]));
        Assert.That(first.Metrics["validationRows"], Is.EqualTo(Math.Round((2000 - first.Metrics["droppedRows"]) * 0.25)));
    }

    [TestCase(TrainingAlgorithm.FastTree, "numberOfTrees", "2")]
    [TestCase(TrainingAlgorithm.LightGbm, "numberOfTrees", "2")]
    [TestCase(TrainingAlgorithm.Sdca, "l2Regularization", "50")]
    public async Task Train_AppliesHyperparameters(TrainingAlgorithm algorithm, string key, string value)
    {
        var settings = (await TrainingHarness.UploadRetailAsync(server, bucket, Retail with { Rows = 1500 })) with { Algorithm = algorithm };

        var defaults = await TrainingHarness.TrainAsync(server, settings);
        var tuned = await TrainingHarness.TrainAsync(server, settings with
        {
            OutputUri = bucket.Combine($"runs/{Guid.NewGuid():N}/"),
            Hyperparameters = new Dictionary<string, string> { [key] = value },
        });

        Assert.That(tuned.Metrics["rmse"], Is.GreaterThan(defaults.Metrics["rmse"]), "a crippled model fits worse");
        Assert.That(tuned.Manifest.Hyperparameters[key], Is.EqualTo(value));
        Assert.That(tuned.Manifest.Hyperparameters, Is.EquivalentTo(AlgorithmCatalog.Resolve(algorithm,
            new Dictionary<string, string> { [key] = value }, (int)tuned.Metrics["trainRows"])), "the manifest records every value used, defaults included");
    }

    [Test]
    public async Task Train_ReportsSliceMetrics_AndTheWorstSliceIsTheDriftedStore()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, Retail with { Rows = 4000, DriftedStore = 3 });

        var result = await TrainingHarness.TrainAsync(server, settings);

        var document = MetricsDocument.Parse(await server.Store.GetBytesAsync(settings.OutputUri.Combine("metrics.json")));
        Assert.That(document.WorstSlice, Is.Not.Null);
        Assert.That((document.WorstSlice!.Column, document.WorstSlice.Value, document.WorstSliceMetric), Is.EqualTo(("store_nbr", "3", "rmse")));
        Assert.That(document.Slices.Where(s => s.Column == "store_nbr").Select(s => s.Value), Is.EquivalentTo(Enumerable.Range(1, 10).Select(n => n.ToString())));
        Assert.That(document.Slices.Where(s => s.Column == "family").Sum(s => s.Rows), Is.EqualTo(document.Validation.Rows));
        Assert.That(result.Metrics["worstSlice.rmse"], Is.EqualTo(document.WorstSlice.Metrics["rmse"]));
        Assert.That(result.Metrics["worstSlice.rmse"], Is.GreaterThan(result.Metrics["rmse"] * 1.5));
        Assert.That(result.Metrics["slice.store_nbr.3.rmse"], Is.EqualTo(result.Metrics["worstSlice.rmse"]));
    }

    [Test]
    public async Task Train_SliceOfTheDriftedStore_IsFarWorseThanTheSameStoreWithoutDrift()
    {
        var drifted = await TrainingHarness.TrainAsync(server,
            await TrainingHarness.UploadRetailAsync(server, bucket, Retail with { Rows = 4000, DriftedStore = 3 }, "drifted.csv"));
        var normal = await TrainingHarness.TrainAsync(server,
            await TrainingHarness.UploadRetailAsync(server, bucket, Retail with { Rows = 4000 }, "normal.csv"));

        Assert.That(drifted.Metrics["slice.store_nbr.3.rmse"], Is.GreaterThan(2 * normal.Metrics["slice.store_nbr.3.rmse"]));
        Assert.That(normal.MetricsDocument.WorstSlice!.Metrics["rmse"], Is.LessThan(drifted.MetricsDocument.WorstSlice!.Metrics["rmse"]));
    }

    [Test]
    public async Task Train_WritesHoldoutCsv_AsASampleOfTheValidationSetInTheInputFormat()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, Retail with { Rows = 6000 });

        var result = await TrainingHarness.TrainAsync(server, settings);

        var holdout = CsvTable.Parse(await server.Store.GetBytesAsync(settings.OutputUri.Combine("holdout.csv")));
        var dataset = CsvTable.Parse(await server.Store.GetBytesAsync(settings.DatasetUri));
        Assert.That(result.Metrics["validationRows"], Is.GreaterThan(ModelTrainer.MaximumHoldoutRows));
        Assert.That(holdout.Rows, Has.Count.EqualTo(ModelTrainer.MaximumHoldoutRows));
        Assert.That(holdout.Columns, Is.EqualTo(dataset.Columns));
        var datasetLines = dataset.Rows.Select(r => string.Join(',', r)).ToHashSet();
        Assert.That(holdout.Rows.All(r => datasetLines.Contains(string.Join(',', r))), Is.True);
        var cut = dataset.Rows.Select(r => r[0]!).Order(StringComparer.Ordinal).ElementAt((int)result.Metrics["trainRows"]);
        Assert.That(holdout.Rows.All(r => string.CompareOrdinal(r[0], cut) >= 0), Is.True, "time split: holdout rows are the latest dates");
        Assert.That(result.MetricsDocument.Holdout.Rows, Is.EqualTo(holdout.Rows.Count));
    }

    [Test]
    public async Task HoldoutEvaluator_ReproducesTheRecordedHoldoutMetrics()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, Retail with { Rows = 6000 });
        var result = await TrainingHarness.TrainAsync(server, settings);

        var model = new ScoringModel(await ModelArtifact.LoadAsync(server.Store, settings.OutputUri));
        var evaluation = await HoldoutEvaluator.EvaluateAsync(model, server.Store, settings.OutputUri);

        var recorded = MetricsDocument.Parse(await server.Store.GetBytesAsync(settings.OutputUri.Combine("metrics.json"))).Holdout;
        Assert.That(evaluation.Rows, Is.EqualTo(recorded.Rows));
        Assert.That(evaluation.Metrics.Keys, Is.EquivalentTo(recorded.Metrics.Keys));
        foreach (var (name, value) in recorded.Metrics)
        {
            Assert.That(evaluation.Metrics[name], Is.EqualTo(value).Within(1e-9), name);
        }

        Assert.That(recorded.Metrics["rmse"], Is.Not.EqualTo(result.MetricsDocument.Validation.Metrics["rmse"]), "holdout is a sample, not the whole validation set");
    }

    [Test]
    public async Task ScoringModel_PredictsFromJsonRows_TheValuesThatReproduceTheTrainingEvaluation()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, Retail);
        var result = await TrainingHarness.TrainAsync(server, settings);
        var model = new ScoringModel(await ModelArtifact.LoadAsync(server.Store, settings.OutputUri));
        var holdout = CsvTable.Parse(await server.Store.GetBytesAsync(settings.OutputUri.Combine("holdout.csv")));

        var requests = holdout.Rows.Select(r => (IReadOnlyDictionary<string, JsonElement>)holdout.Columns
            .Select((c, i) => (c, i)).Where(x => x.c != "unit_sales")
            .ToDictionary(x => x.c, x => JsonValue(holdout.Columns[x.i], r[x.i]))).ToList();
        var predictions = model.Score(requests);

        var rows = holdout.Rows.Select((r, i) => new EvaluationRow(r[8]!, predictions[i], MetricsCalculator.WeightOf(r[6]))).ToList();
        var metrics = MetricsCalculator.Compute(MlTask.Regression, rows);
        Assert.That(result.MetricsDocument.Validation.Rows, Is.EqualTo(holdout.Rows.Count), "3000 rows: the whole validation set is the holdout");
        Assert.That(metrics["rmse"], Is.EqualTo(result.Metrics["rmse"]).Within(1e-9));
        Assert.That(metrics["nwrmsle"], Is.EqualTo(result.Metrics["nwrmsle"]).Within(1e-9));
        Assert.That(predictions.Select(p => p.Score).Distinct().Count(), Is.GreaterThan(10));
    }

    [Test]
    public async Task ScoringModel_RejectsInput_NamingTheField()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, Retail with { Rows = 1000 });
        await TrainingHarness.TrainAsync(server, settings);
        var model = new ScoringModel(await ModelArtifact.LoadAsync(server.Store, settings.OutputUri));
        var valid = new Dictionary<string, string?>
        {
            ["date"] = "2016-02-01", ["store_nbr"] = "1", ["item_nbr"] = "103520", ["family"] = "GROCERY I", ["city"] = "Quito",
            ["onpromotion"] = null, ["perishable"] = "0", ["holiday"] = "0",
        };

        Assert.That(model.Score([valid]), Has.Count.EqualTo(1));
        var badType = Assert.Throws<ScoringInputException>(() => model.Score([new Dictionary<string, string?>(valid) { ["store_nbr"] = "one" }]));
        Assert.That((badType!.Field, badType.Message), Is.EqualTo(("store_nbr", "row 0: field 'store_nbr' must be a Integer; got 'one'.")));
        var missing = new Dictionary<string, string?>(valid);
        missing.Remove("date");
        var missingError = Assert.Throws<ScoringInputException>(() => model.Score([valid, missing]));
        Assert.That((missingError!.Field, missingError.Row), Is.EqualTo(("date", 1)));
    }

    [Test]
    public async Task ModelArtifact_RefusesAModelWhoseSha256DiffersFromTheManifest()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, Retail with { Rows = 1000 });
        await TrainingHarness.TrainAsync(server, settings);
        await server.Store.PutBytesAsync(settings.OutputUri.Combine("model.zip"), [1, 2, 3]);

        var error = Assert.ThrowsAsync<InvalidDataException>(() => ModelArtifact.LoadAsync(server.Store, settings.OutputUri));

        Assert.That(error!.Message, Does.Contain("model.zip").And.Contain("sha256"));
    }

    [TestCase(TrainingAlgorithm.FastTree)]
    [TestCase(TrainingAlgorithm.LightGbm)]
    [TestCase(TrainingAlgorithm.Sdca)]
    [TestCase(TrainingAlgorithm.LogisticRegression)]
    public async Task Train_BinaryClassification_LearnsAndScoresProbabilities(TrainingAlgorithm algorithm)
    {
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, TrainingHarness.ClassificationCsv(2000, 1), (d, o) => new TrainingSettings
        {
            DatasetUri = d, OutputUri = o, Task = MlTask.BinaryClassification, Algorithm = algorithm, LabelColumn = "positive",
            FeatureColumns = ["x1", "x2", "color"], Schema = TrainingHarness.ClassificationSchema, SliceColumns = ["color"],
        });

        var result = await TrainingHarness.TrainAsync(server, settings);

        Assert.That(result.Metrics["accuracy"], Is.GreaterThan(0.85));
        Assert.That(result.Metrics["auc"], Is.GreaterThan(0.9));
        Assert.That(result.Metrics.Keys, Is.SupersetOf(new[] { "f1", "logLoss", "worstSlice.accuracy" }));
        var model = new ScoringModel(await ModelArtifact.LoadAsync(server.Store, settings.OutputUri));
        var predictions = model.Score([
            new Dictionary<string, string?> { ["x1"] = "0.95", ["x2"] = "0.9", ["color"] = "red" },
            new Dictionary<string, string?> { ["x1"] = "0.05", ["x2"] = "0.1", ["color"] = "purple" },
        ]);
        Assert.That(predictions.Select(p => p.PredictedLabel), Is.EqualTo(new[] { "true", "false" }));
        Assert.That(predictions[0].Probability, Is.GreaterThan(0.5));
        Assert.That(predictions[1].Probability, Is.LessThan(0.5));
    }

    [TestCase(TrainingAlgorithm.LightGbm)]
    [TestCase(TrainingAlgorithm.Sdca)]
    public async Task Train_MulticlassClassification_RecordsClasses_AndScoresThem(TrainingAlgorithm algorithm)
    {
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, TrainingHarness.ClassificationCsv(2000, 2), (d, o) => new TrainingSettings
        {
            DatasetUri = d, OutputUri = o, Task = MlTask.MulticlassClassification, Algorithm = algorithm, LabelColumn = "band",
            FeatureColumns = ["x1", "x2", "color"], Schema = TrainingHarness.ClassificationSchema,
        });

        var result = await TrainingHarness.TrainAsync(server, settings);

        Assert.That(result.Manifest.Classes, Is.EquivalentTo(new[] { "low", "mid", "high" }));
        Assert.That(result.Metrics["accuracy"], Is.GreaterThan(0.85));
        Assert.That(result.Metrics.Keys, Is.SupersetOf(new[] { "macroAccuracy", "logLoss" }));
        var model = new ScoringModel(await ModelArtifact.LoadAsync(server.Store, settings.OutputUri));
        var prediction = model.Score([new Dictionary<string, string?> { ["x1"] = "0.9", ["x2"] = "0.5", ["color"] = "blue" }]).Single();
        Assert.That(prediction.PredictedLabel, Is.EqualTo("high"));
        Assert.That(prediction.ClassProbabilities!.Values.Sum(), Is.EqualTo(1).Within(1e-4));
        Assert.That(prediction.Probability, Is.EqualTo(prediction.ClassProbabilities.Values.Max()));
        var evaluation = await HoldoutEvaluator.EvaluateAsync(model, server.Store, settings.OutputUri);
        Assert.That(evaluation.Metrics["logLoss"], Is.EqualTo(result.MetricsDocument.Holdout.Metrics["logLoss"]).Within(1e-9));
    }

    [TestCase(MlTask.MulticlassClassification, "band")]
    [TestCase(MlTask.BinaryClassification, "positive")]
    public async Task Train_StopsEarlyAboveTenThousandTrainingRows_AndTheSavedModelScoresAsEvaluated(MlTask task, string label)
    {
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, TrainingHarness.ClassificationCsv(13_000, 4), (d, o) => new TrainingSettings
        {
            DatasetUri = d, OutputUri = o, Task = task, LabelColumn = label,
            FeatureColumns = ["x1", "x2", "color"], Schema = TrainingHarness.ClassificationSchema,
        });

        var result = await TrainingHarness.TrainAsync(server, settings);

        Assert.That(result.Metrics["trainRows"], Is.GreaterThan(AlgorithmCatalog.EarlyStoppingMinimumRows));
        Assert.That(result.Manifest.Hyperparameters[AlgorithmCatalog.EarlyStoppingRounds], Is.EqualTo("10"));
        Assert.That(result.Metrics["accuracy"], Is.GreaterThan(0.85));
        var model = new ScoringModel(await ModelArtifact.LoadAsync(server.Store, settings.OutputUri));
        var evaluation = await HoldoutEvaluator.EvaluateAsync(model, server.Store, settings.OutputUri);
        Assert.That(evaluation.Metrics["logLoss"], Is.EqualTo(result.MetricsDocument.Holdout.Metrics["logLoss"]).Within(1e-9));
    }

    [Test]
    public async Task Train_InfersTheSchema_WhenNoneIsGiven()
    {
        var settings = await TrainingHarness.UploadCsvAsync(server, bucket, TrainingHarness.ClassificationCsv(500, 3), (d, o) => new TrainingSettings
        {
            DatasetUri = d, OutputUri = o, Task = MlTask.BinaryClassification, LabelColumn = "positive", FeatureColumns = ["x1", "x2", "color"],
        });

        var result = await TrainingHarness.TrainAsync(server, settings);

        Assert.That(result.Manifest.Schema.Select(c => (c.Name, c.Type)), Is.EqualTo(new[]
        {
            ("x1", ColumnType.Number), ("x2", ColumnType.Number), ("color", ColumnType.String), ("positive", ColumnType.Boolean), ("band", ColumnType.String),
        }));
    }

    private static JsonElement JsonValue(string column, string? raw) => raw is null
        ? JsonSerializer.SerializeToElement<object?>(null)
        : column is "store_nbr" or "item_nbr" or "perishable" or "holiday"
            ? JsonSerializer.SerializeToElement(long.Parse(raw))
            : column == "onpromotion" ? JsonSerializer.SerializeToElement(bool.Parse(raw)) : JsonSerializer.SerializeToElement(raw);
}
