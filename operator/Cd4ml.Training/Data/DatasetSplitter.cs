namespace Cd4ml.Training;

/// <summary>Row positions of the training and validation sets, each in the table's order.</summary>
public sealed record DatasetSplit(IReadOnlyList<int> Train, IReadOnlyList<int> Validation);

/// <summary>Deterministic train/validation splits.</summary>
public static class DatasetSplitter
{
    public static DatasetSplit Split(CsvTable table, SplitSettings settings)
    {
        var count = table.RowCount;
        var validationCount = (int)Math.Round(count * settings.ValidationFraction, MidpointRounding.AwayFromZero);
        if (count < 2 || validationCount < 1 || validationCount >= count)
        {
            throw TrainingSettings.Invalid(
                $"{count} rows cannot be split with validationFraction {settings.ValidationFraction}: both sets need at least one row.");
        }

        return settings.Method == SplitMethod.Time ? ByTime(table, settings, validationCount) : ByShuffle(count, settings.Seed, validationCount);
    }

    // System.Random with a seed is a fixed algorithm, so the same seed gives the same split on every run.
    private static DatasetSplit ByShuffle(int count, int seed, int validationCount)
    {
        var positions = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(positions);
        var validation = positions[..validationCount];
        Array.Sort(validation);
        var isValidation = new bool[count];
        foreach (var position in validation)
        {
            isValidation[position] = true;
        }

        return new DatasetSplit(Enumerable.Range(0, count).Where(p => !isValidation[p]).ToArray(), validation);
    }

    /// <summary>
    /// The latest dates go to validation. All rows of one date land on the same side (no leakage within a day), so the
    /// validation share is the fraction rounded to whole dates; the cut is the date of the row at the requested share.
    /// </summary>
    private static DatasetSplit ByTime(CsvTable table, SplitSettings settings, int validationCount)
    {
        var column = settings.TimeColumn!;
        var index = table.IndexOf(column);
        if (index < 0)
        {
            throw TrainingSettings.Invalid($"{TrainingSettings.SplitVariable}: time column '{column}' is not in the dataset.");
        }

        var parsed = table.Typed(index, ColumnType.Date);
        var dates = parsed.Dates;
        for (var position = 0; position < dates.Length; position++)
        {
            if (parsed.States[position] != TypedColumn.Valid)
            {
                throw new TrainingException(TrainingFailureReason.SchemaViolation,
                    $"column '{column}': the time split needs a date in every row; row {table.RowNumbers[position]} has '{table.Cell(position, index)}'.");
            }
        }

        var sorted = dates.Order().ToArray();
        var cut = sorted[dates.Length - validationCount];
        if (cut == sorted[0])
        {
            throw TrainingSettings.Invalid(
                $"{TrainingSettings.SplitVariable}: the time split on '{column}' leaves no training rows (the earliest date {cut:yyyy-MM-dd} falls in the validation share).");
        }

        var train = new List<int>();
        var validation = new List<int>();
        for (var position = 0; position < dates.Length; position++)
        {
            (dates[position] >= cut ? validation : train).Add(position);
        }

        return new DatasetSplit(train, validation);
    }
}
