using System.Text;

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
    public float ToSingle(int row, CsvTable table, int column) => States[row] switch
    {
        Absent or Blank => float.NaN,
        Valid => Type switch
        {
            ColumnType.Number => (float)Numbers[row],
            ColumnType.Integer => Integers[row],
            ColumnType.Boolean => Flags[row] ? 1f : 0f,
            _ => throw new FormatException($"'{table.Cell(row, column)}' is not a valid {Type}."),
        },
        _ => throw new FormatException($"'{table.Cell(row, column)}' is not a valid {Type}."),
    };

    /// <summary>
    /// Parses the cells at <paramref name="rows"/> (all when null). An interned column parses each distinct value once
    /// and copies the result per row; a bytes column decodes each cell into a reused buffer and parses that.
    /// </summary>
    public static TypedColumn Parse(ColumnType type, TextColumn cells, IReadOnlyList<int>? rows)
    {
        var count = rows?.Count ?? cells.Count;
        var column = new TypedColumn(type, count);
        if (cells.IsInterned)
        {
            var distinct = new TypedColumn(type, cells.Distinct.Count);
            for (var d = 0; d < cells.Distinct.Count; d++)
            {
                distinct.ParseAt(d, cells.Distinct[d]);
            }

            for (var r = 0; r < count; r++)
            {
                var code = cells.Code(rows is null ? r : rows[r]);
                if (code < 0)
                {
                    column.States[r] = Absent;
                }
                else
                {
                    column.CopyFrom(r, distinct, code);
                }
            }

            return column;
        }

        var buffer = new char[256];
        for (var r = 0; r < count; r++)
        {
            var utf8 = cells.Utf8(rows is null ? r : rows[r]);
            if (utf8.IsEmpty)
            {
                column.States[r] = Absent;
                continue;
            }

            if (buffer.Length < Encoding.UTF8.GetMaxCharCount(utf8.Length))
            {
                buffer = new char[Encoding.UTF8.GetMaxCharCount(utf8.Length)];
            }

            column.ParseAt(r, buffer.AsSpan(0, Encoding.UTF8.GetChars(utf8, buffer)));
        }

        return column;
    }

    private void ParseAt(int r, ReadOnlySpan<char> raw)
    {
        if (ColumnValues.IsNull(raw))
        {
            States[r] = Blank;
            return;
        }

        var valid = Type switch
        {
            ColumnType.Number => ColumnValues.TryParseNumber(raw, out Numbers[r]),
            ColumnType.Integer => ColumnValues.TryParseInteger(raw, out Integers[r]),
            ColumnType.Boolean => ColumnValues.TryParseBoolean(raw, out Flags[r]),
            ColumnType.Date => ColumnValues.TryParseDate(raw, out Dates[r]),
            _ => true,
        };
        States[r] = valid ? Valid : Invalid;
    }

    /// <summary>The rows at the given positions.</summary>
    public TypedColumn Gather(IReadOnlyList<int> positions)
    {
        var column = new TypedColumn(Type, positions.Count);
        for (var r = 0; r < positions.Count; r++)
        {
            column.CopyFrom(r, this, positions[r]);
        }

        return column;
    }

    private void CopyFrom(int r, TypedColumn source, int p)
    {
        States[r] = source.States[p];
        switch (Type)
        {
            case ColumnType.Number:
                Numbers[r] = source.Numbers[p];
                break;
            case ColumnType.Integer:
                Integers[r] = source.Integers[p];
                break;
            case ColumnType.Boolean:
                Flags[r] = source.Flags[p];
                break;
            case ColumnType.Date:
                Dates[r] = source.Dates[p];
                break;
        }
    }
}
