namespace Cd4ml.Training;

/// <summary>One way the data breaks the schema, with the first offending rows (1-based data row numbers).</summary>
public sealed record SchemaViolation(string Column, string Problem, int Count, IReadOnlyList<int> FirstRows)
{
    public override string ToString() => Count == 0
        ? $"column '{Column}': {Problem}"
        : $"column '{Column}': {Problem} in {Count} row{(Count == 1 ? "" : "s")} (first: row{(FirstRows.Count == 1 ? "" : "s")} {string.Join(", ", FirstRows)})";
}

/// <summary>Schema inference, filtering and validation of a <see cref="CsvTable"/>.</summary>
public static class DatasetSchema
{
    private const int RowsNamed = 5;

    /// <summary>
    /// A schema from the data alone, used when CD4ML_SCHEMA is empty: per column the narrowest of Boolean
    /// (true/false only), Integer, Number, Date, else String; nullable when any value is empty; no min/max.
    /// </summary>
    public static IReadOnlyList<ColumnDefinition> Infer(CsvTable table) =>
        table.Columns.Select((name, index) =>
        {
            var values = table.Rows.Select(r => r[index]).Where(v => !ColumnValues.IsNull(v)).Select(v => v!).ToList();
            var nullable = values.Count < table.Rows.Count;
            var type = values.Count == 0 ? ColumnType.String
                : values.All(v => v.Trim().ToLowerInvariant() is "true" or "false") ? ColumnType.Boolean
                : values.All(v => ColumnValues.TryParseInteger(v, out _)) ? ColumnType.Integer
                : values.All(v => ColumnValues.TryParseNumber(v, out _)) ? ColumnType.Number
                : values.All(v => ColumnValues.TryParseDate(v, out _)) ? ColumnType.Date
                : ColumnType.String;
            return new ColumnDefinition(name, type, nullable);
        }).ToList();

    /// <summary>Drops rows whose filter column holds a number outside [min, max]. Empty or non-numeric values are kept for validation to judge.</summary>
    public static (CsvTable Kept, int Dropped) ApplyFilters(CsvTable table, IReadOnlyList<RowFilter> filters)
    {
        if (filters.Count == 0)
        {
            return (table, 0);
        }

        var indexed = filters.Select(f => (Filter: f, Index: table.IndexOf(f.Column))).ToList();
        if (indexed.FirstOrDefault(f => f.Index < 0) is { Filter: not null } missing)
        {
            throw TrainingSettings.Invalid(
                $"{TrainingSettings.FiltersVariable}: column '{missing.Filter.Column}' is not in the dataset (columns: {string.Join(", ", table.Columns)}).");
        }

        var kept = new List<int>(table.Rows.Count);
        for (var position = 0; position < table.Rows.Count; position++)
        {
            var row = table.Rows[position];
            var outside = indexed.Any(f => row[f.Index] is { } raw && ColumnValues.TryParseNumber(raw, out var value)
                && (value < f.Filter.Min || value > f.Filter.Max));
            if (!outside)
            {
                kept.Add(position);
            }
        }

        return (table.Select(kept), table.Rows.Count - kept.Count);
    }

    /// <summary>Every way the table breaks the schema: missing columns, unparsable values, nulls, values out of range.</summary>
    public static IReadOnlyList<SchemaViolation> Validate(CsvTable table, IReadOnlyList<ColumnDefinition> schema, string labelColumn)
    {
        var violations = new List<SchemaViolation>();
        foreach (var column in schema)
        {
            var index = table.IndexOf(column.Name);
            if (index < 0)
            {
                violations.Add(new SchemaViolation(column.Name, $"missing from the dataset (columns: {string.Join(", ", table.Columns)})", 0, []));
                continue;
            }

            var nulls = new Offenders();
            var invalid = new Offenders();
            var outOfRange = new Offenders();
            var nullable = column.Nullable && column.Name != labelColumn;
            for (var position = 0; position < table.Rows.Count; position++)
            {
                var raw = table.Rows[position][index];
                var rowNumber = table.RowNumbers[position];
                if (ColumnValues.IsNull(raw))
                {
                    if (!nullable)
                    {
                        nulls.Add(rowNumber);
                    }
                }
                else if (!TryRead(column.Type, raw!, out var value))
                {
                    invalid.Add(rowNumber);
                }
                else if (value < column.Min || value > column.Max)
                {
                    outOfRange.Add(rowNumber);
                }
            }

            var nullProblem = column.Name == labelColumn ? "empty label" : "empty value but the column is not nullable";
            nulls.Report(violations, column.Name, nullProblem);
            invalid.Report(violations, column.Name, $"value that is not a valid {column.Type}");
            outOfRange.Report(violations, column.Name, $"value outside [{column.Min?.ToString() ?? "-inf"}, {column.Max?.ToString() ?? "+inf"}]");
        }

        return violations;
    }

    // Checks a value and, for Number and Integer columns, returns it for the range check: one parse per value.
    private static bool TryRead(ColumnType type, string raw, out double? number)
    {
        number = null;
        switch (type)
        {
            case ColumnType.Number when ColumnValues.TryParseNumber(raw, out var value):
                number = value;
                return true;
            case ColumnType.Integer when ColumnValues.TryParseInteger(raw, out var integer):
                number = integer;
                return true;
            case ColumnType.Number or ColumnType.Integer:
                return false;
            default:
                return ColumnValues.IsValid(type, raw);
        }
    }

    private sealed class Offenders
    {
        private readonly List<int> first = [];

        public int Count { get; private set; }

        public void Add(int row)
        {
            if (first.Count < RowsNamed)
            {
                first.Add(row);
            }

            Count++;
        }

        public void Report(List<SchemaViolation> violations, string column, string problem)
        {
            if (Count > 0)
            {
                violations.Add(new SchemaViolation(column, problem, Count, first));
            }
        }
    }
}
