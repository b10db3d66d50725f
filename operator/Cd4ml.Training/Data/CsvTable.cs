using System.Collections.Concurrent;
using System.Text;

namespace Cd4ml.Training;

/// <summary>
/// A CSV file held as raw strings (RFC 4180: quotes, doubled quotes, newlines inside quotes). Empty fields are null.
/// Row numbers are 1-based and count data rows only (the header is not a row), so they stay stable under filtering.
/// </summary>
public sealed class CsvTable
{
    private readonly CsvTable? source;
    private readonly IReadOnlyList<int>? sourcePositions;
    private readonly ConcurrentDictionary<(int Index, ColumnType Type), TypedColumn> typed = [];

    public CsvTable(IReadOnlyList<string> columns, IReadOnlyList<string?[]> rows, IReadOnlyList<int>? rowNumbers = null)
        : this(columns, rows, rowNumbers, null, null)
    {
    }

    private CsvTable(IReadOnlyList<string> columns, IReadOnlyList<string?[]> rows, IReadOnlyList<int>? rowNumbers,
        CsvTable? source, IReadOnlyList<int>? sourcePositions)
    {
        this.source = source;
        this.sourcePositions = sourcePositions;
        Columns = columns;
        Rows = rows;
        RowNumbers = rowNumbers ?? Enumerable.Range(1, rows.Count).ToArray();
        var indexes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            if (!indexes.TryAdd(columns[i], i))
            {
                throw new FormatException($"The CSV header names column '{columns[i]}' twice.");
            }
        }

        ColumnIndexes = indexes;
    }

    public IReadOnlyList<string> Columns { get; }

    public IReadOnlyDictionary<string, int> ColumnIndexes { get; }

    public IReadOnlyList<string?[]> Rows { get; }

    /// <summary>The data row number (in the original file) of each row.</summary>
    public IReadOnlyList<int> RowNumbers { get; }

    public int IndexOf(string column) => ColumnIndexes.TryGetValue(column, out var index) ? index : -1;

    /// <summary>The rows at the given positions, keeping their original row numbers.</summary>
    public CsvTable Select(IReadOnlyList<int> positions) =>
        new(Columns, positions.Select(p => Rows[p]).ToArray(), positions.Select(p => RowNumbers[p]).ToArray(), this, positions.ToArray());

    /// <summary>
    /// The column at <paramref name="index"/> parsed as <paramref name="type"/>, computed once per table (a selection
    /// gathers the parsed values of the table it was selected from, so each cell is parsed at most once per type).
    /// </summary>
    internal TypedColumn Typed(int index, ColumnType type) =>
        typed.GetOrAdd((index, type), key => source is null
            ? TypedColumn.Parse(key.Type, Rows, key.Index)
            : source.Typed(key.Index, key.Type).Gather(sourcePositions!));

    /// <summary>Parses the given columns up front, several at once (each column is independent work).</summary>
    internal void ParseColumns(IEnumerable<(int Index, ColumnType Type)> columns) =>
        Parallel.ForEach(columns, column => Typed(column.Index, column.Type));

    public static CsvTable Parse(ReadOnlySpan<byte> utf8) => Parse(Encoding.UTF8.GetString(utf8.StartsWith("\uFEFF"u8) ? utf8[3..] : utf8));

    public static CsvTable Parse(string text)
    {
        var records = ReadRecords(text);
        if (records.Count == 0)
        {
            throw new FormatException("The CSV is empty: a header row is required.");
        }

        var header = records[0].Select(h => h?.Trim() ?? "").ToArray();
        if (header.Any(h => h.Length == 0))
        {
            throw new FormatException("The CSV header has an empty column name.");
        }

        var rows = new List<string?[]>(records.Count - 1);
        for (var i = 1; i < records.Count; i++)
        {
            var record = records[i];
            if (record.Length == 1 && record[0] is null && header.Length > 1)
            {
                continue; // blank line
            }

            if (record.Length != header.Length)
            {
                throw new FormatException($"CSV row {i} has {record.Length} fields; the header has {header.Length}.");
            }

            rows.Add(record);
        }

        return new CsvTable(header, rows);
    }

    /// <summary>Writes the table as CSV (\n line ends, quoting only where needed), so <see cref="Parse(string)"/> reads it back unchanged.</summary>
    public string ToCsv()
    {
        var builder = new StringBuilder();
        AppendRecord(builder, Columns);
        foreach (var row in Rows)
        {
            AppendRecord(builder, row);
        }

        return builder.ToString();
    }

    public static void AppendRecord(StringBuilder builder, IReadOnlyList<string?> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            var field = fields[i] ?? "";
            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (field.Length > 0 && (field[0] == ' ' || field[^1] == ' ')))
            {
                builder.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                builder.Append(field);
            }
        }

        builder.Append('\n');
    }

    private const int MaximumSharedLength = 32;
    private const int MaximumSharedValues = 1 << 16;

    private static List<string?[]> ReadRecords(string text)
    {
        var records = new List<string?[]>();
        var fields = new List<string?>();
        var field = new StringBuilder();
        var inQuotes = false;
        var i = 0;

        string? whole = null; // an unquoted field read in one piece, without the builder

        // Repeated short values (dates, categories, flags, small numbers) share one string: on the 1M-row retail set
        // most fields repeat, and a string per field was most of the trainer's memory. Bounded, so a column of
        // distinct values costs a capped cache, not a copy of the file.
        var shared = new Dictionary<string, string>(StringComparer.Ordinal);
        var sharedLookup = shared.GetAlternateLookup<ReadOnlySpan<char>>();

        string Share(ReadOnlySpan<char> value)
        {
            if (value.Length > MaximumSharedLength)
            {
                return value.ToString();
            }

            if (sharedLookup.TryGetValue(value, out var existing))
            {
                return existing;
            }

            var created = value.ToString();
            if (shared.Count < MaximumSharedValues)
            {
                shared.Add(created, created);
            }

            return created;
        }

        void EndField()
        {
            fields.Add(whole ?? (field.Length == 0 ? null : field.ToString()));
            whole = null;
            field.Clear();
        }

        void EndRecord()
        {
            EndField();
            records.Add([.. fields]);
            fields.Clear();
        }

        while (i < text.Length)
        {
            var c = text[i];
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i += 2;
                        continue;
                    }

                    inQuotes = false;
                }
                else
                {
                    field.Append(c);
                }

                i++;
                continue;
            }

            switch (c)
            {
                case '"' when field.Length == 0:
                    inQuotes = true;
                    break;
                case ',':
                    EndField();
                    break;
                case '\r':
                    break;
                case '\n':
                    EndRecord();
                    break;
                default:
                {
                    // A run of ordinary characters at once; a field that is only that run becomes one substring.
                    // c itself is ordinary here (or a quote inside a field, which is literal), so the run has at least it.
                    var run = text.AsSpan(i + 1).IndexOfAny(",\r\n\"");
                    var length = run < 0 ? text.Length - i : run + 1;
                    if (field.Length == 0 && (i + length == text.Length || text[i + length] is ',' or '\n'))
                    {
                        whole = Share(text.AsSpan(i, length));
                    }
                    else
                    {
                        field.Append(text.AsSpan(i, length));
                    }

                    i += length;
                    continue;
                }
            }

            i++;
        }

        if (inQuotes)
        {
            throw new FormatException("The CSV ends inside a quoted field.");
        }

        if (whole is not null || field.Length > 0 || fields.Count > 0)
        {
            EndRecord();
        }

        return records;
    }
}
