using System.Text;

namespace Cd4ml.Training;

/// <summary>
/// One way the data breaks the schema, with the first offending rows (1-based data row numbers) and, for unparsable
/// values, the values themselves.
/// </summary>
public sealed record SchemaViolation(string Column, string Problem, int Count, IReadOnlyList<int> FirstRows)
{
    /// <summary>The offending values of <see cref="FirstRows"/>, when the value is the problem.</summary>
    public IReadOnlyList<string>? FirstValues { get; init; }

    /// <summary>How to fix it, when there is a setting for that.</summary>
    public string? Fix { get; init; }

    public override string ToString()
    {
        var text = Count == 0
            ? $"column '{Column}': {Problem}"
            : FirstValues is { } values
                ? $"column '{Column}': {Problem} in {Count} row{(Count == 1 ? "" : "s")} (first: {string.Join(", ", FirstRows.Select((row, i) => $"row {row} '{values[i]}'"))})"
                : $"column '{Column}': {Problem} in {Count} row{(Count == 1 ? "" : "s")} (first: row{(FirstRows.Count == 1 ? "" : "s")} {string.Join(", ", FirstRows)})";
        return Fix is null ? text : $"{text}; {Fix}";
    }
}

/// <summary>Schema inference, filtering and validation of a <see cref="CsvTable"/>.</summary>
public static class DatasetSchema
{
    private const int RowsNamed = 5;

    /// <summary>
    /// At least this share of a column's non-empty values must be numbers for inference to call it numeric although
    /// some are not; validation then names the rows that are not (instead of a silent String column).
    /// </summary>
    public const double MostlyNumericShare = 0.9;

    /// <summary>
    /// A schema from the data alone, used when CD4ML_SCHEMA is empty: per column the narrowest of Boolean
    /// (true/false only), Integer, Number, Date, else String; nullable when any value is empty; no min/max. A column
    /// whose non-empty values are mostly (<see cref="MostlyNumericShare"/>) but not all numbers is Integer or Number
    /// all the same, so that validation reports the few values that are not (e.g. <c>n/a</c> or a broken byte).
    /// </summary>
    public static IReadOnlyList<ColumnDefinition> Infer(CsvTable table) =>
        table.Columns.Select((name, index) =>
        {
            // Counted over distinct values where the column is interned, so a repeated value is judged once.
            int values = 0, booleans = 0, numbers = 0, integers = 0;
            VisitValues(table, index, (value, count) =>
            {
                if (ColumnValues.IsNull(value))
                {
                    return true;
                }

                values += count;
                booleans += ColumnValues.IsBooleanWord(value) ? count : 0;
                if (ColumnValues.TryParseNumber(value, out _))
                {
                    numbers += count;
                    integers += ColumnValues.TryParseInteger(value, out _) ? count : 0;
                }

                return true;
            });

            var nullable = values < table.RowCount;
            var type = values == 0 ? ColumnType.String
                : booleans == values ? ColumnType.Boolean
                : numbers >= MostlyNumericShare * values ? integers == numbers ? ColumnType.Integer : ColumnType.Number
                : AllDates(table, index) ? ColumnType.Date
                : ColumnType.String;
            return new ColumnDefinition(name, type, nullable);
        }).ToList();

    private static bool AllDates(CsvTable table, int index)
    {
        var all = true;
        VisitValues(table, index, (value, occurrences) => all = ColumnValues.IsNull(value) || ColumnValues.TryParseDate(value, out _));
        return all;
    }

    private delegate bool ValueVisitor(ReadOnlySpan<char> value, int count);

    /// <summary>
    /// Calls <paramref name="visit"/> with each present cell of the column (each distinct value once, with its count,
    /// when the column is interned), without a string per cell; stops when it returns false.
    /// </summary>
    private static void VisitValues(CsvTable table, int index, ValueVisitor visit)
    {
        var cells = table.CellsOf(index);
        var rows = table.CellRows;
        if (cells.IsInterned)
        {
            var counts = new int[cells.Distinct.Count];
            for (var r = 0; r < table.RowCount; r++)
            {
                if (cells.Code(rows is null ? r : rows[r]) is var code and >= 0)
                {
                    counts[code]++;
                }
            }

            for (var d = 0; d < counts.Length; d++)
            {
                if (counts[d] > 0 && !visit(cells.Distinct[d], counts[d]))
                {
                    return;
                }
            }

            return;
        }

        var buffer = new char[256];
        for (var r = 0; r < table.RowCount; r++)
        {
            var utf8 = cells.Utf8(rows is null ? r : rows[r]);
            if (utf8.IsEmpty)
            {
                continue;
            }

            if (buffer.Length < Encoding.UTF8.GetMaxCharCount(utf8.Length))
            {
                buffer = new char[Encoding.UTF8.GetMaxCharCount(utf8.Length)];
            }

            if (!visit(buffer.AsSpan(0, Encoding.UTF8.GetChars(utf8, buffer)), 1))
            {
                return;
            }
        }
    }

    /// <summary>Drops the rows whose label is empty (<see cref="MissingLabelPolicy.Drop"/>); a missing column is left to validation.</summary>
    public static (CsvTable Kept, int Dropped) DropMissingLabels(CsvTable table, string labelColumn)
    {
        var index = table.IndexOf(labelColumn);
        if (index < 0)
        {
            return (table, 0);
        }

        var states = table.Typed(index, ColumnType.String).States;
        var kept = Enumerable.Range(0, table.RowCount).Where(p => states[p] == TypedColumn.Valid).ToList();
        return kept.Count == table.RowCount ? (table, 0) : (table.Select(kept), table.RowCount - kept.Count);
    }

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
        var kept = new List<int>(table.RowCount);
        for (var position = 0; position < table.RowCount; position++)
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

        return (table.Select(kept), table.RowCount - kept.Count);
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
                        invalid.Add(table.RowNumbers[position], table.Cell(position, index));
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

            if (column.Name == labelColumn)
            {
                nulls.Report(violations, column.Name, "empty label",
                    $"set dataset.missingLabels: Drop ({TrainingSettings.MissingLabelsVariable}=Drop) to drop such rows");
            }
            else
            {
                nulls.Report(violations, column.Name, "empty value but the column is not nullable");
            }

            invalid.Report(violations, column.Name, $"value that is not a valid {column.Type}");
            outOfRange.Report(violations, column.Name, $"value outside [{column.Min?.ToString() ?? "-inf"}, {column.Max?.ToString() ?? "+inf"}]");
        }

        return violations;
    }

    /// <summary>Counts offending rows and keeps the first few (with their values, when given).</summary>
    internal sealed class Offenders
    {
        private readonly List<int> first = [];
        private readonly List<string> values = [];

        public int Count { get; private set; }

        public void Add(int row, string? value = null)
        {
            if (first.Count < RowsNamed)
            {
                first.Add(row);
                if (value is not null)
                {
                    values.Add(Shorten(value));
                }
            }

            Count++;
        }

        public void Report(List<SchemaViolation> violations, string column, string problem, string? fix = null)
        {
            if (Count > 0)
            {
                violations.Add(new SchemaViolation(column, problem, Count, first)
                {
                    FirstValues = values.Count == first.Count && values.Count > 0 ? values : null,
                    Fix = fix,
                });
            }
        }

        // A value quoted in a message: at most 40 characters, control characters (e.g. from a broken encoding) escaped.
        private static string Shorten(string value)
        {
            var text = value.Length > 40 ? value[..40] + "…" : value;
            return string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        }
    }
}
