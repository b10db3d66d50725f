namespace Cd4ml.Training;

/// <summary>
/// One column of a <see cref="CsvTable"/> read once as a type: per row whether the cell is absent (null), blank
/// (whitespace), a valid value or invalid, and the value. Filters, validation, the time split and the model input all
/// read these instead of parsing the same text again; a selection of rows gathers its parent's arrays.
/// </summary>
internal sealed class TypedColumn
{
    public const byte Absent = 0;
    public const byte Blank = 1;
    public const byte Valid = 2;
    public const byte Invalid = 3;

    private TypedColumn(ColumnType type, int count)
    {
        Type = type;
        States = new byte[count];
        Numbers = type == ColumnType.Number ? new double[count] : [];
        Integers = type == ColumnType.Integer ? new long[count] : [];
        Flags = type == ColumnType.Boolean ? new bool[count] : [];
        Dates = type == ColumnType.Date ? new DateTime[count] : [];
    }

    public ColumnType Type { get; }

    public byte[] States { get; }

    public double[] Numbers { get; }

    public long[] Integers { get; }

    public bool[] Flags { get; }

    public DateTime[] Dates { get; }

    /// <summary>Whether the cell is empty in the sense of <see cref="ColumnValues.IsNull"/>.</summary>
    public bool IsNull(int row) => States[row] is Absent or Blank;

    /// <summary>A Number, Integer or Boolean value as <see cref="ColumnValues.ToSingle"/> makes it; NaN when null.</summary>
    public float ToSingle(int row, string? raw) => States[row] switch
    {
        Absent or Blank => float.NaN,
        Valid => Type switch
        {
            ColumnType.Number => (float)Numbers[row],
            ColumnType.Integer => Integers[row],
            ColumnType.Boolean => Flags[row] ? 1f : 0f,
            _ => throw new FormatException($"'{raw}' is not a valid {Type}."),
        },
        _ => throw new FormatException($"'{raw}' is not a valid {Type}."),
    };

    public static TypedColumn Parse(ColumnType type, IReadOnlyList<string?[]> rows, int index)
    {
        var column = new TypedColumn(type, rows.Count);
        for (var r = 0; r < rows.Count; r++)
        {
            var raw = rows[r][index];
            bool valid;
            if (raw is null)
            {
                column.States[r] = Absent;
                continue;
            }

            if (ColumnValues.IsNull(raw))
            {
                column.States[r] = Blank;
                continue;
            }

            switch (type)
            {
                case ColumnType.Number:
                    valid = ColumnValues.TryParseNumber(raw, out column.Numbers[r]);
                    break;
                case ColumnType.Integer:
                    valid = ColumnValues.TryParseInteger(raw, out column.Integers[r]);
                    break;
                case ColumnType.Boolean:
                    valid = ColumnValues.TryParseBoolean(raw, out column.Flags[r]);
                    break;
                case ColumnType.Date:
                    valid = ColumnValues.TryParseDate(raw, out column.Dates[r]);
                    break;
                default:
                    valid = ColumnValues.IsValid(type, raw);
                    break;
            }

            column.States[r] = valid ? Valid : Invalid;
        }

        return column;
    }

    /// <summary>The rows at the given positions.</summary>
    public TypedColumn Gather(IReadOnlyList<int> positions)
    {
        var column = new TypedColumn(Type, positions.Count);
        for (var r = 0; r < positions.Count; r++)
        {
            var p = positions[r];
            column.States[r] = States[p];
            switch (Type)
            {
                case ColumnType.Number:
                    column.Numbers[r] = Numbers[p];
                    break;
                case ColumnType.Integer:
                    column.Integers[r] = Integers[p];
                    break;
                case ColumnType.Boolean:
                    column.Flags[r] = Flags[p];
                    break;
                case ColumnType.Date:
                    column.Dates[r] = Dates[p];
                    break;
            }
        }

        return column;
    }
}
