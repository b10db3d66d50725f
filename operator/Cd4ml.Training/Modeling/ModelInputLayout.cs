using Microsoft.ML.Data;

namespace Cd4ml.Training;

/// <summary>
/// How raw column values become the model's input columns. Number, Integer and Boolean features become floats
/// (NaN when empty); String features stay text (one-hot encoded by the pipeline); a Date feature is never used as a
/// raw value but as five float features: <c>&lt;name&gt;.dayOfWeek</c> (0 = Sunday), <c>&lt;name&gt;.month</c>,
/// <c>&lt;name&gt;.dayOfMonth</c>, <c>&lt;name&gt;.year</c> (so trends across years are learnable) and
/// <c>&lt;name&gt;.dayOfYear</c> (1-366, seasons that do not follow month boundaries). The label is a float (regression), a bool (binary) or text (multiclass).
/// </summary>
internal sealed class ModelInputLayout(MlTask task, ColumnDefinition label, IReadOnlyList<ColumnDefinition> features)
{
    public MlTask Task { get; } = task;

    public ColumnDefinition Label { get; } = label;

    public IReadOnlyList<ColumnDefinition> Features { get; } = features;

    public IReadOnlyList<string> NumericFeatureNames { get; } = features
        .Where(f => f.Type != ColumnType.String)
        .SelectMany(f => f.Type == ColumnType.Date ? DateParts(f.Name) : [f.Name])
        .ToList();

    public IReadOnlyList<string> TextFeatureNames { get; } = features.Where(f => f.Type == ColumnType.String).Select(f => f.Name).ToList();

    /// <summary>Builds the model input. Values must already be valid (validated by schema or request checks).</summary>
    public ColumnarDataView BuildDataView(CsvTable table, bool withLabel)
    {
        var count = table.RowCount;
        var columns = new List<(string, DataViewType, Array)>();

        int IndexOf(string name) => table.IndexOf(name) is var i and >= 0 ? i : throw new FormatException($"Column '{name}' is missing.");

        foreach (var feature in Features)
        {
            var index = IndexOf(feature.Name);
            switch (feature.Type)
            {
                case ColumnType.String:
                {
                    var values = new ReadOnlyMemory<char>[count];
                    for (var r = 0; r < count; r++)
                    {
                        values[r] = (table.Cell(r, index) ?? "").AsMemory();
                    }

                    columns.Add((feature.Name, TextDataViewType.Instance, values));
                    break;
                }
                case ColumnType.Date:
                {
                    var dayOfWeek = new float[count];
                    var month = new float[count];
                    var dayOfMonth = new float[count];
                    var year = new float[count];
                    var dayOfYear = new float[count];
                    var parsed = table.Typed(index, ColumnType.Date);
                    for (var r = 0; r < count; r++)
                    {
                        if (parsed.IsNull(r))
                        {
                            dayOfWeek[r] = month[r] = dayOfMonth[r] = year[r] = dayOfYear[r] = float.NaN;
                        }
                        else if (parsed.States[r] == TypedColumn.Valid)
                        {
                            var date = parsed.Dates[r];
                            dayOfWeek[r] = (float)date.DayOfWeek;
                            month[r] = date.Month;
                            dayOfMonth[r] = date.Day;
                            year[r] = date.Year;
                            dayOfYear[r] = date.DayOfYear;
                        }
                        else
                        {
                            throw new FormatException($"Column '{feature.Name}': '{table.Cell(r, index)}' is not a valid Date.");
                        }
                    }

                    var parts = DateParts(feature.Name);
                    columns.Add((parts[0], NumberDataViewType.Single, dayOfWeek));
                    columns.Add((parts[1], NumberDataViewType.Single, month));
                    columns.Add((parts[2], NumberDataViewType.Single, dayOfMonth));
                    columns.Add((parts[3], NumberDataViewType.Single, year));
                    columns.Add((parts[4], NumberDataViewType.Single, dayOfYear));
                    break;
                }
                default:
                {
                    var values = new float[count];
                    var parsed = table.Typed(index, feature.Type);
                    for (var r = 0; r < count; r++)
                    {
                        values[r] = parsed.ToSingle(r, table, index);
                    }

                    columns.Add((feature.Name, NumberDataViewType.Single, values));
                    break;
                }
            }
        }

        // Scoring input has no label, but the fitted pipeline still expects the column (e.g. multiclass key mapping).
        var labelIndex = withLabel ? IndexOf(Label.Name) : -1;
        string? LabelAt(int r) => labelIndex < 0 ? null : table.Cell(r, labelIndex);
        switch (Task)
        {
            case MlTask.Regression:
            {
                // An absent label (scoring input, or a null cell) is 0; a blank one NaN, as ColumnValues.ToSingle reads it.
                var labels = new float[count];
                if (labelIndex >= 0)
                {
                    var parsed = table.Typed(labelIndex, ColumnType.Number);
                    for (var r = 0; r < count; r++)
                    {
                        labels[r] = parsed.States[r] == TypedColumn.Absent ? 0f : parsed.ToSingle(r, table, labelIndex);
                    }
                }

                columns.Add((Label.Name, NumberDataViewType.Single, labels));
                break;
            }
            case MlTask.BinaryClassification:
                columns.Add((Label.Name, BooleanDataViewType.Instance,
                    Enumerable.Range(0, count).Select(r => LabelAt(r) is { } raw && ParseBinaryLabel(raw)).ToArray()));
                break;
            default:
                columns.Add((Label.Name, TextDataViewType.Instance,
                    Enumerable.Range(0, count).Select(r => (LabelAt(r)?.Trim() ?? "").AsMemory()).ToArray()));
                break;
        }

        return new ColumnarDataView(columns, count);
    }

    public static bool ParseBinaryLabel(string raw) =>
        ColumnValues.TryParseBoolean(raw, out var value) ? value : throw new FormatException($"'{raw}' is not a binary label (true/false, 1/0, yes/no).");

    public static string[] DateParts(string name) =>
        [$"{name}.dayOfWeek", $"{name}.month", $"{name}.dayOfMonth", $"{name}.year", $"{name}.dayOfYear"];
}
