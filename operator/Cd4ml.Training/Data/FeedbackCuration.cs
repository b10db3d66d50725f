using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Cd4ml.Artifacts;

namespace Cd4ml.Training;

/// <summary>Production rows in the dataset's column order, and the log and feedback objects they came from.</summary>
/// <param name="Objects">Every object read, as S3 URIs: prediction logs first, then feedback, each in key order.</param>
public sealed record ProductionRows(IReadOnlyList<string?[]> Rows, IReadOnlyList<string> Objects);

/// <summary>
/// dataset.fromFeedback: reads what a Deployment's model servers logged under
/// <c>&lt;logUri&gt;predictions/model=&lt;m&gt;/version=&lt;v&gt;/date=YYYY-MM-DD/hour=HH/*.csv</c> and
/// <c>&lt;logUri&gt;feedback/…</c> (the same layout), joins each logged prediction with the latest feedback label for its
/// predictionId, and maps the logged feature columns onto the dataset's columns, the label coming from the feedback.
/// Objects whose hour partition ends before the window are not read; predictions without feedback are left out.
/// </summary>
public static partial class FeedbackCuration
{
    public const string PredictionsFolder = "predictions";
    public const string FeedbackFolder = "feedback";
    public const string CuratedFileName = "dataset.csv";
    private const string PredictionIdColumn = "predictionId";
    private const string TimeColumn = "time";
    private const string FeedbackLabelColumn = "label";
    /// <summary>Log objects downloading or parsed and waiting their turn at once: what memory holds besides the labels and kept rows.</summary>
    private const int ReadAhead = 8;

    /// <summary>Appends the production rows to <paramref name="dataset"/> and writes the result under the output prefix.</summary>
    /// <returns>The table to train on (the dataset itself when production had no rows) and what the lineage records.</returns>
    public static async Task<(CsvTable Table, ProductionData Production)> CurateAsync(ArtifactStore store, TrainingSettings settings,
        CsvTable dataset, DateTimeOffset now, TextWriter log, CancellationToken cancellationToken = default)
    {
        var source = settings.FromFeedback ?? throw new InvalidOperationException("The run has no fromFeedback source.");
        var production = await CollectAsync(store, source, dataset.Columns, settings.LabelColumn, now, cancellationToken);
        var lineage = new ProductionData(source.LogUri, source.Deployment, source.WindowSeconds, production.Rows.Count, production.Objects);
        if (production.Rows.Count == 0)
        {
            log.WriteLine($"No logged predictions with feedback in the last {source.Window.TotalHours:0.##}h under {source.LogUri} " +
                $"({production.Objects.Count} objects read); training on {settings.DatasetUri} alone.");
            return (dataset, lineage);
        }

        // Column by column: a string array per dataset row would undo the columns' interned/byte storage.
        var curated = dataset.Append(production.Rows);
        using var content = new MemoryStream();
        curated.WriteCsv(content);
        var digest = ContentDigest.Sha256Digest(content.GetBuffer().AsSpan(0, (int)content.Length));
        var location = settings.OutputUri.Combine(CuratedFileName);
        content.Position = 0;
        await store.PutStreamAsync(location, content, "text/csv", cancellationToken);
        log.WriteLine($"Appended {production.Rows.Count} production rows ({production.Objects.Count} objects under {source.LogUri}) " +
            $"to {dataset.RowCount} dataset rows: {location} ({digest}).");
        return (curated, lineage with { CuratedDatasetUri = location.ToString(), CuratedDatasetDigest = digest });
    }

    /// <summary>The joined rows, oldest first, at most <see cref="FeedbackSource.MaxRows"/> (the newest).</summary>
    /// <param name="columns">The dataset's columns: the rows come in this order; columns the log lacks stay empty.</param>
    public static async Task<ProductionRows> CollectAsync(ArtifactStore store, FeedbackSource source, IReadOnlyList<string> columns,
        string labelColumn, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var root = S3Location.Parse(source.LogUri).AsPrefix();
        var from = now - source.Window;
        var predictionObjects = InWindow(await store.ListAsync(root.Combine($"{PredictionsFolder}/model={source.Model}/"), cancellationToken), from);
        var feedbackObjects = InWindow(await store.ListAsync(root.Combine($"{FeedbackFolder}/model={source.Model}/"), cancellationToken), from);
        var objects = predictionObjects.Concat(feedbackObjects).Select(o => o.ToString()).ToList();
        if (predictionObjects.Count == 0)
        {
            return new ProductionRows([], objects);
        }

        // Feedback may be sent again for the same prediction: the latest one wins (a later object on equal times). An empty
        // label is no label. One read-ahead over the feedback, then the predictions: every label is known before the first join,
        // and only the objects in flight are held, never the window.
        var labels = new Dictionary<string, (DateTimeOffset Time, string Label)>(StringComparer.Ordinal);
        var labelIndex = columns.ToList().IndexOf(labelColumn);
        var newest = new NewestRows(source.MaxRows);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var objectsRead = 0;
        await foreach (var (location, table) in ReadInOrderAsync(store, [.. feedbackObjects, .. predictionObjects], cancellationToken))
        {
            if (objectsRead++ < feedbackObjects.Count)
            {
                FoldFeedback(location, table, labels);
                continue;
            }

            var id = Required(location, table, PredictionIdColumn);
            var time = table.IndexOf(TimeColumn);
            var mapping = columns.Select(table.IndexOf).ToArray();
            // Cell by cell: a log table is read as columns, and only the joined rows become string arrays.
            for (var r = 0; r < table.RowCount; r++)
            {
                var at = time >= 0 ? ParseTime(table.Cell(r, time)) : now;
                if (at < from || table.Cell(r, id) is not { } predictionId || !labels.TryGetValue(predictionId, out var feedback) || !seen.Add(predictionId)
                    || !newest.Admits(at))
                {
                    continue;
                }

                var values = new string?[columns.Count];
                for (var c = 0; c < values.Length; c++)
                {
                    values[c] = c == labelIndex ? feedback.Label : mapping[c] >= 0 ? table.Cell(r, mapping[c]) : null;
                }

                newest.Add(at, values);
            }
        }

        return new ProductionRows(newest.OldestFirst(), objects);
    }

    /// <summary>The .csv objects whose date=/hour= partition ends after <paramref name="from"/>, in key order.</summary>
    public static IReadOnlyList<S3Location> InWindow(IEnumerable<ArtifactInfo> objects, DateTimeOffset from) => objects
        .Select(o => o.Location)
        .Where(l => l.Key.EndsWith(".csv", StringComparison.Ordinal) && PartitionHour(l.Key) is { } hour && hour.AddHours(1) > from)
        .OrderBy(l => l.Key, StringComparer.Ordinal)
        .ToList();

    /// <summary>The start of the hour a log object's key names (…/date=2026-11-30/hour=07/…), or null for any other key.</summary>
    public static DateTimeOffset? PartitionHour(string key) =>
        Partition().Match(key) is { Success: true } match
        && DateTimeOffset.TryParseExact($"{match.Groups[1].Value}T{match.Groups[2].Value}", "yyyy-MM-dd'T'HH", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var hour)
            ? hour
            : null;

    [GeneratedRegex(@"/date=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/")]
    private static partial Regex Partition();

    private static void FoldFeedback(S3Location location, CsvTable table, Dictionary<string, (DateTimeOffset Time, string Label)> labels)
    {
        var (id, label, time) = (Required(location, table, PredictionIdColumn), Required(location, table, FeedbackLabelColumn), table.IndexOf(TimeColumn));
        for (var r = 0; r < table.RowCount; r++)
        {
            if (table.Cell(r, id) is not { } predictionId || table.Cell(r, label) is not { } value)
            {
                continue;
            }

            var at = time >= 0 ? ParseTime(table.Cell(r, time)) : DateTimeOffset.MinValue;
            if (!labels.TryGetValue(predictionId, out var known) || at >= known.Time)
            {
                labels[predictionId] = (at, value);
            }
        }
    }

    /// <summary>
    /// The objects parsed, in the given order, with up to <see cref="ReadAhead"/> of them downloading or parsed and waiting at
    /// once: the next download starts only when the consumer asks for the next object, never ahead of how fast it joins.
    /// </summary>
    private static async IAsyncEnumerable<(S3Location Location, CsvTable Table)> ReadInOrderAsync(ArtifactStore store,
        IReadOnlyList<S3Location> objects, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Stops the read-ahead when the consumer stops early (an invalid object, cancellation).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = new Queue<Task<(S3Location, CsvTable)>>(ReadAhead);
        var next = 0;
        try
        {
            while (next < objects.Count || inFlight.Count > 0)
            {
                while (inFlight.Count < ReadAhead && next < objects.Count)
                {
                    inFlight.Enqueue(ReadAsync(store, objects[next++], stop.Token));
                }

                yield return await inFlight.Dequeue();
            }
        }
        finally
        {
            await stop.CancelAsync();
            await ((Task)Task.WhenAll(inFlight)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task<(S3Location, CsvTable)> ReadAsync(ArtifactStore store, S3Location location, CancellationToken cancellationToken)
    {
        try
        {
            return (location, CsvTable.Parse(await store.GetBytesAsync(location, cancellationToken)));
        }
        catch (FormatException e)
        {
            throw new TrainingException(TrainingFailureReason.SchemaViolation, $"The log object {location} is not a valid CSV: {e.Message}", e);
        }
    }

    private static int Required(S3Location location, CsvTable table, string column) => table.IndexOf(column) is >= 0 and var index
        ? index
        : throw new TrainingException(TrainingFailureReason.SchemaViolation,
            $"The log object {location} has no '{column}' column (columns: {string.Join(", ", table.Columns)}).");

    private static DateTimeOffset ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : DateTimeOffset.MinValue;
}
