using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Cd4ml.Artifacts;
using Microsoft.ML;

namespace Cd4ml.Training;

/// <summary>What a successful run produced.</summary>
public sealed record TrainingResult(
    IReadOnlyDictionary<string, double> Metrics,
    string DatasetDigest,
    string ModelSha256,
    S3Location OutputUri,
    ModelManifest Manifest,
    MetricsDocument MetricsDocument)
{
    /// <summary>Wall time of each step of the run, in order (see <see cref="ModelTrainer"/> for what each covers).</summary>
    public IReadOnlyList<TrainingSection> Sections { get; init; } = [];
}

/// <summary>One timed step of a training run.</summary>
public sealed record TrainingSection(string Name, TimeSpan Elapsed);

/// <summary>
/// One training run: read the dataset from S3, check its digest, filter, validate against the schema, split, train,
/// evaluate (whole validation set, slices, holdout sample), and write model.zip, metrics.json, holdout.csv, profile.json and, last,
/// manifest.json under the output prefix. Expected failures raise <see cref="TrainingException"/>.
/// </summary>
public sealed class ModelTrainer(ArtifactStore store, TextWriter log, TimeProvider? time = null)
{
    /// <summary>The flat metric counting the rows dataset.fromFeedback appended.</summary>
    public const string ProductionRowsMetric = "productionRows";

    /// <summary>holdout.csv keeps at most this many validation rows.</summary>
    public const int MaximumHoldoutRows = 1000;

    /// <summary>Slices with fewer validation rows are reported but never chosen as the worst slice.</summary>
    public const int MinimumSliceRows = 20;

    public static string TrainerVersion { get; } =
        typeof(ModelTrainer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public async Task<TrainingResult> RunAsync(TrainingSettings settings, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        var clock = new SectionClock();
        var (table, digest) = await ReadAndParseAsync(settings, clock, cancellationToken);
        clock.End("parse");
        ProductionData? production = null;
        if (settings.FromFeedback is not null)
        {
            (table, production) = await FeedbackCuration.CurateAsync(store, settings, table, (time ?? TimeProvider.System).GetUtcNow(), log,
                cancellationToken);
            clock.End("curate");
        }

        if (table.RowCount == 0)
        {
            throw new TrainingException(TrainingFailureReason.SchemaViolation,
                $"The dataset {settings.DatasetUri} has no rows: it holds only a header ({string.Join(", ", table.Columns)}).");
        }

        var (kept, filtered) = DatasetSchema.ApplyFilters(table, settings.Filters);
        var missingLabels = 0;
        if (settings.MissingLabels == MissingLabelPolicy.Drop)
        {
            (kept, missingLabels) = DatasetSchema.DropMissingLabels(kept, settings.LabelColumn);
        }

        var dropped = new SortedDictionary<string, int>(StringComparer.Ordinal) { ["filters"] = filtered, ["missingLabels"] = missingLabels };
        log.WriteLine($"Read {table.RowCount} rows ({digest}); filters dropped {filtered}, missing labels {missingLabels}.");
        if (kept.RowCount == 0)
        {
            throw new TrainingException(TrainingFailureReason.SchemaViolation,
                $"The dataset {settings.DatasetUri} has no rows left: filters dropped {filtered} of {table.RowCount} and missing labels {missingLabels}.");
        }

        var schemaInferred = settings.Schema.Count == 0;
        var schema = schemaInferred ? DatasetSchema.Infer(kept) : settings.Schema;
        var (label, features) = ResolveColumns(settings, schema, kept);
        kept.ParseColumns(schema.Where(c => kept.IndexOf(c.Name) >= 0).Select(c => (kept.IndexOf(c.Name), c.Type)));
        var violations = DatasetSchema.Validate(kept, schema, settings.LabelColumn);
        if (violations.Count > 0)
        {
            // An inferred type is a guess: say where it came from and how to overrule it.
            var inferredNote = schemaInferred && violations.Any(v => v.FirstValues is not null)
                ? $" (the schema was inferred: a column whose values are at least {DatasetSchema.MostlyNumericShare:P0} numbers is numeric; " +
                  $"declare its type in dataset.columns ({TrainingSettings.SchemaVariable}) or clear the values named)"
                : "";
            throw new TrainingException(TrainingFailureReason.SchemaViolation,
                $"{settings.DatasetUri} does not match the schema: {string.Join("; ", violations.Take(10))}" +
                (violations.Count > 10 ? $"; and {violations.Count - 10} more" : "") + inferredNote);
        }

        CheckLabels(settings.Task, kept, label);
        clock.End("validate");
        var split = DatasetSplitter.Split(kept, settings.Split);
        var train = kept.Select(split.Train);
        var validation = kept.Select(split.Validation);
        clock.End("split");
        log.WriteLine($"Training {settings.Task}/{settings.Algorithm} on {train.RowCount} rows, validating on {validation.RowCount}.");

        var hyperparameters = AlgorithmCatalog.Resolve(settings.Algorithm, settings.Hyperparameters, train.RowCount);
        var layout = new ModelInputLayout(settings.Task, label, features);
        var ml = new MLContext(seed: settings.Split.Seed);
        ITransformer model;
        IReadOnlyList<string>? classes = null;
        IReadOnlyList<Prediction> predictions;
        try
        {
            var building = Task.Run(() => layout.BuildDataView(validation, withLabel: true), cancellationToken);
            var trainView = layout.BuildDataView(train, withLabel: true);
            var validationView = await building;
            clock.End("columns");
            var fitted = ModelPipeline.Fit(ml, layout, settings.Algorithm, hyperparameters, settings.Split.Seed, trainView);
            model = fitted.Model;
            clock.End("fit");
            // The encoder computes the featurizer's output exactly (FeatureEncoderTests), and the model server re-scores
            // holdout.csv through the saved model and compares with these metrics before it serves.
            var scored = fitted.Score(validationView);
            if (settings.Task == MlTask.MulticlassClassification)
            {
                classes = ModelPipeline.ReadClasses(scored, label.Name);
            }

            predictions = ModelPipeline.ReadPredictions(scored, settings.Task, classes ?? []);
            clock.End("score");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new TrainingException(TrainingFailureReason.TrainingFailed, $"ML.NET failed to train {settings.Algorithm}: {e.Message}", e);
        }

        var holdoutPositions = SampleHoldout(validation.RowCount, settings.Split.Seed);
        var metricsDocument = Evaluate(settings, validation, predictions, holdoutPositions, train.RowCount, dropped) with
        {
            Schema = schema,
            SchemaInferred = schemaInferred,
            Hyperparameters = hyperparameters,
        };
        if (production is not null)
        {
            metricsDocument = metricsDocument with
            {
                Metrics = new Dictionary<string, double>(metricsDocument.Metrics) { [ProductionRowsMetric] = production.Rows },
            };
        }

        clock.End("evaluate");

        using var modelStream = new MemoryStream();
        ml.Model.Save(model, layout.BuildDataView(validation.Select([]), withLabel: true).Schema, modelStream);
        var modelBytes = ReproducibleZip.Normalize(modelStream.ToArray());
        var holdoutBytes = Encoding.UTF8.GetBytes(validation.Select(holdoutPositions).ToCsv());
        var metricsBytes = metricsDocument.ToJson();
        var profileBytes = TrainingProfile.Build(settings.Task, train, features, validation, label, predictions).ToJson();
        clock.End("serialize");

        // The artifacts upload in parallel; manifest.json, which names them all, goes last.
        var uploads = new[]
        {
            (Name: ModelManifest.ModelFileName, Content: modelBytes, Type: "application/zip"),
            (Name: ModelManifest.MetricsFileName, Content: metricsBytes, Type: "application/json"),
            (Name: ModelManifest.HoldoutFileName, Content: holdoutBytes, Type: "text/csv"),
            (Name: TrainingProfile.FileName, Content: profileBytes, Type: "application/json"),
        };
        var entries = await Task.WhenAll(uploads.Select(async upload =>
        {
            var location = settings.OutputUri.Combine(upload.Name);
            await store.PutBytesAsync(location, upload.Content, upload.Type, cancellationToken);
            return new ArtifactEntry(location.ToString(), ContentDigest.Sha256Hex(upload.Content), upload.Content.Length);
        }));
        var artifacts = uploads.Select((upload, i) => (upload.Name, Entry: entries[i])).ToDictionary(a => a.Name, a => a.Entry);

        var manifest = new ModelManifest
        {
            TrainerVersion = TrainerVersion,
            RunName = settings.RunName,
            Attempt = settings.Attempt,
            Image = settings.Image,
            CreatedAt = DateTimeOffset.UtcNow,
            Task = settings.Task,
            Algorithm = settings.Algorithm,
            Hyperparameters = hyperparameters,
            Dataset = new DatasetInfo(settings.DatasetUri.ToString(), digest, table.RowCount, dropped.Values.Sum(), train.RowCount,
                validation.RowCount) { DroppedRowsByReason = dropped },
            LabelColumn = label,
            FeatureColumns = features,
            WeightColumn = settings.WeightColumn,
            Classes = classes,
            Schema = schema,
            SchemaInferred = schemaInferred,
            MissingLabels = settings.MissingLabels,
            Filters = settings.Filters,
            Split = settings.Split,
            SliceColumns = settings.SliceColumns,
            Production = production,
            Artifacts = artifacts,
        };
        await store.PutBytesAsync(settings.OutputUri.Combine(ModelManifest.FileName), manifest.ToJson(), "application/json", cancellationToken);
        clock.End("upload");
        log.WriteLine($"Wrote {string.Join(", ", artifacts.Keys)}, {ModelManifest.FileName} to {settings.OutputUri}.");
        log.WriteLine($"Took {clock}.");

        return new TrainingResult(metricsDocument.Metrics, digest, artifacts[ModelManifest.ModelFileName].Sha256, settings.OutputUri,
            manifest, metricsDocument) { Sections = clock.Sections };
    }

    /// <summary>Times consecutive steps: each <see cref="End"/> closes the step that began at the previous one.</summary>
    private sealed class SectionClock
    {
        private readonly List<TrainingSection> sections = [];
        private readonly Stopwatch watch = Stopwatch.StartNew();

        public IReadOnlyList<TrainingSection> Sections => sections;

        public void End(string name)
        {
            sections.Add(new TrainingSection(name, watch.Elapsed));
            watch.Restart();
        }

        public override string ToString() =>
            string.Join(", ", sections.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Name} {s.Elapsed.TotalSeconds:F2}s")));
    }

    /// <summary>
    /// Reads the dataset and computes its digest over the file's bytes, then checks it; a digest mismatch is reported
    /// before any problem in the content. A CSV streams from S3 through the parser (the file is never held whole); a
    /// Parquet file is read into memory first (its footer, at the end, says where the columns are).
    /// </summary>
    private async Task<(CsvTable Table, string Digest)> ReadAndParseAsync(TrainingSettings settings, SectionClock clock,
        CancellationToken cancellationToken)
    {
        var parquet = ParquetDataset.IsParquet(settings.DatasetUri);
        CsvTable? table = null;
        FormatException? invalid = null;
        string digest;
        if (parquet)
        {
            // Parquet is read by seeking (the footer, then each row group's column chunks): the file is spooled to TMPDIR
            // (the pod's emptyDir) while digested, so memory holds one row group's column at a time, never the whole file.
            await using var stream = await OpenDatasetAsync(settings, cancellationToken);
            await using var file = new FileStream(Path.Combine(Path.GetTempPath(), $"cd4ml-dataset-{Guid.NewGuid():N}.parquet"),
                FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            using (var digesting = new DigestingStream(stream))
            {
                await Task.Run(() => digesting.CopyTo(file), cancellationToken);
                digest = digesting.Digest();
            }

            clock.End("read");
            file.Position = 0;
            try
            {
                table = await ParquetDataset.ReadAsync(file, cancellationToken);
            }
            catch (FormatException e)
            {
                invalid = e;
            }
        }
        else
        {
            await using var stream = await OpenDatasetAsync(settings, cancellationToken);
            using var digesting = new DigestingStream(stream);
            (table, invalid) = await Task.Run(() =>
            {
                try
                {
                    return ((CsvTable?)CsvTable.Read(digesting), (FormatException?)null);
                }
                catch (FormatException e)
                {
                    digesting.ReadToEnd(); // the digest covers the whole file, even past the error
                    return ((CsvTable?)null, (FormatException?)e);
                }
            }, cancellationToken);
            digest = digesting.Digest(); // reading and parsing are one streamed step, timed as "parse"
        }

        if (settings.DatasetDigest is { } expected && expected != digest)
        {
            throw new TrainingException(TrainingFailureReason.DatasetDigestMismatch,
                $"The dataset {settings.DatasetUri} has digest {digest}, but {TrainingSettings.DatasetDigestVariable} expects {expected}.");
        }

        return table is null
            ? throw new TrainingException(TrainingFailureReason.SchemaViolation,
                $"{settings.DatasetUri} is not a valid {(parquet ? "Parquet file" : "CSV")}: {invalid!.Message}", invalid)
            : (table, digest);
    }

    private async Task<Stream> OpenDatasetAsync(TrainingSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            return await store.OpenReadAsync(settings.DatasetUri, cancellationToken);
        }
        catch (ArtifactNotFoundException e)
        {
            throw new TrainingException(TrainingFailureReason.DatasetNotFound, $"The dataset {settings.DatasetUri} does not exist.", e);
        }
    }

    private static (ColumnDefinition Label, IReadOnlyList<ColumnDefinition> Features) ResolveColumns(
        TrainingSettings settings, IReadOnlyList<ColumnDefinition> schema, CsvTable table)
    {
        var byName = schema.ToDictionary(c => c.Name);
        var known = string.Join(", ", schema.Select(c => c.Name));

        ColumnDefinition Find(string name, string role) => byName.TryGetValue(name, out var column)
            ? column
            : throw TrainingSettings.Invalid($"The {role} column '{name}' is not in the schema (columns: {known}).");

        var label = Find(settings.LabelColumn, "label");
        var features = settings.FeatureColumns.Count > 0
            ? settings.FeatureColumns.Select(f => Find(f, "feature")).ToList()
            : schema.Where(c => c.Name != label.Name).ToList();
        if (features.Count == 0)
        {
            throw TrainingSettings.Invalid("There are no feature columns.");
        }

        foreach (var slice in settings.SliceColumns)
        {
            Find(slice, "slice");
        }

        if (settings.WeightColumn is { } weight)
        {
            Find(weight, "weight");
        }

        if (settings.Split is { Method: SplitMethod.Time, TimeColumn: { } time } && Find(time, "time split").Type != ColumnType.Date)
        {
            throw TrainingSettings.Invalid($"The time split column '{time}' must have type Date.");
        }

        if (settings.Task == MlTask.Regression && !label.IsNumeric)
        {
            var index = table.IndexOf(label.Name);
            if (settings.Schema.Count == 0 && index >= 0)
            {
                // Inferred as something else: the values that are not numbers are what the user needs to see.
                var notNumbers = new DatasetSchema.Offenders();
                for (var position = 0; position < table.RowCount; position++)
                {
                    if (table.Cell(position, index) is { } raw && !ColumnValues.IsNull(raw) && !ColumnValues.TryParseNumber(raw, out _))
                    {
                        notNumbers.Add(table.RowNumbers[position], raw);
                    }
                }

                var violations = new List<SchemaViolation>();
                notNumbers.Report(violations, label.Name, "label that is not a number");
                throw new TrainingException(TrainingFailureReason.SchemaViolation,
                    $"Regression needs a numeric label; '{label.Name}' was inferred as {label.Type}: {string.Join("; ", violations)}.");
            }

            throw TrainingSettings.Invalid($"Regression needs a Number or Integer label; '{label.Name}' is {label.Type}.");
        }

        return (label, features);
    }

    private static void CheckLabels(MlTask task, CsvTable table, ColumnDefinition label)
    {
        var index = table.IndexOf(label.Name);
        if (task == MlTask.BinaryClassification)
        {
            var bad = new DatasetSchema.Offenders();
            for (var position = 0; position < table.RowCount; position++)
            {
                if (!ColumnValues.TryParseBoolean(table.Cell(position, index)!, out _))
                {
                    bad.Add(table.RowNumbers[position], table.Cell(position, index));
                }
            }

            var violations = new List<SchemaViolation>();
            bad.Report(violations, label.Name, "binary label that is not true/false, 1/0 or yes/no");
            if (violations.Count > 0)
            {
                throw new TrainingException(TrainingFailureReason.SchemaViolation, $"{violations[0]}.");
            }
        }

        if (task != MlTask.Regression && Enumerable.Range(0, table.RowCount).Select(p => table.Cell(p, index)!.Trim()).Distinct().Take(2).Count() < 2)
        {
            throw new TrainingException(TrainingFailureReason.SchemaViolation,
                $"column '{label.Name}': classification needs at least two distinct labels.");
        }
    }

    private static IReadOnlyList<int> SampleHoldout(int validationRows, int seed)
    {
        var positions = Enumerable.Range(0, validationRows).ToArray();
        if (validationRows <= MaximumHoldoutRows)
        {
            return positions;
        }

        new Random(seed).Shuffle(positions);
        var sample = positions[..MaximumHoldoutRows];
        Array.Sort(sample);
        return sample;
    }

    private static MetricsDocument Evaluate(TrainingSettings settings, CsvTable validation, IReadOnlyList<Prediction> predictions,
        IReadOnlyList<int> holdoutPositions, int trainRows, IReadOnlyDictionary<string, int> droppedRows)
    {
        var rows = EvaluationRows(validation, predictions, settings.LabelColumn, settings.WeightColumn);
        var overall = MetricsCalculator.Compute(settings.Task, rows);
        var holdout = MetricsCalculator.Compute(settings.Task, holdoutPositions.Select(p => rows[p]).ToList());

        var slices = new List<SliceMetrics>();
        foreach (var column in settings.SliceColumns)
        {
            var index = validation.IndexOf(column);
            slices.AddRange(Enumerable.Range(0, rows.Count)
                .GroupBy(p => validation.Cell(p, index) ?? "")
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new SliceMetrics(column, g.Key, g.Count(), MetricsCalculator.Compute(settings.Task, g.Select(p => rows[p]).ToList()))));
        }

        var primary = MetricsCalculator.PrimaryMetric(settings.Task);
        var lowerIsBetter = MetricsCalculator.LowerIsBetter.Contains(primary);
        var candidates = slices.Where(s => s.Rows >= MinimumSliceRows && s.Metrics.ContainsKey(primary)).ToList();
        var worst = candidates.Count == 0 ? null
            : lowerIsBetter ? candidates.MaxBy(s => s.Metrics[primary]) : candidates.MinBy(s => s.Metrics[primary]);

        var flat = new Dictionary<string, double>(overall)
        {
            ["trainRows"] = trainRows,
            ["validationRows"] = validation.RowCount,
            ["droppedRows"] = droppedRows.Values.Sum(),
            ["holdoutRows"] = holdoutPositions.Count,
        };
        foreach (var (reason, count) in droppedRows)
        {
            flat[$"droppedRows.{reason}"] = count;
        }
        foreach (var (name, value) in holdout)
        {
            flat[$"holdout.{name}"] = value;
        }

        if (worst is not null)
        {
            foreach (var (name, value) in worst.Metrics)
            {
                flat[$"worstSlice.{name}"] = value;
            }
        }

        foreach (var slice in slices)
        {
            foreach (var (name, value) in slice.Metrics)
            {
                flat[$"slice.{slice.Column}.{slice.Value}.{name}"] = value;
            }
        }

        return new MetricsDocument
        {
            Task = settings.Task,
            Algorithm = settings.Algorithm,
            Metrics = flat,
            Validation = new MetricGroup(validation.RowCount, overall),
            Holdout = new MetricGroup(holdoutPositions.Count, holdout),
            Slices = slices,
            WorstSlice = worst,
            WorstSliceMetric = worst is null ? null : primary,
            MinimumSliceRows = MinimumSliceRows,
        };
    }

    internal static List<EvaluationRow> EvaluationRows(CsvTable table, IReadOnlyList<Prediction> predictions, string labelColumn, string? weightColumn)
    {
        var labelIndex = table.IndexOf(labelColumn);
        var weightIndex = weightColumn is null ? -1 : table.IndexOf(weightColumn);
        return Enumerable.Range(0, table.RowCount)
            .Select(p => new EvaluationRow(table.Cell(p, labelIndex)!, predictions[p],
                weightIndex < 0 ? 1.0 : MetricsCalculator.WeightOf(table.Cell(p, weightIndex))))
            .ToList();
    }
}
