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

        var numbers = indexed.Select(f => (f.Filter, Column: table.Typed(f.Index, ColumnType.Number))).ToList();
        var kept = new List<int>(table.Rows.Count);
        for (var position = 0; position < table.Rows.Count; position++)
        {
            var outside = false;
            foreach (var (filter, column) in numbers)
            {
                if (column.States[position] == TypedColumn.Valid
                    && (column.Numbers[position] < filter.Min || column.Numbers[position] > filter.Max))
                {
                    outside = true;
                    break;
                }
            }

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
            var values = table.Typed(index, column.Type);
            var states = values.States;
            for (var position = 0; position < states.Length; position++)
            {
                switch (states[position])
                {
                    case TypedColumn.Absent or TypedColumn.Blank:
                        if (!nullable)
                        {
                            nulls.Add(table.RowNumbers[position]);
                        }

                        break;
                    case TypedColumn.Invalid:
                        invalid.Add(table.RowNumbers[position]);
                        break;
                    default:
                        double? value = column.Type switch
                        {
                            ColumnType.Number => values.Numbers[position],
                            ColumnType.Integer => values.Integers[position],
                            _ => null,
                        };
                        if (value < column.Min || value > column.Max)
                        {
                            outOfRange.Add(table.RowNumbers[position]);
                        }

                        break;
                }
            }

            var nullProblem = column.Name == labelColumn ? "empty label" : "empty value but the column is not nullable";
            nulls.Report(violations, column.Name, nullProblem);
            invalid.Report(violations, column.Name, $"value that is not a valid {column.Type}");
            outOfRange.Report(violations, column.Name, $"value outside [{column.Min?.ToString() ?? "-inf"}, {column.Max?.ToString() ?? "+inf"}]");
        }

        return violations;
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
