using System.Buffers;
using System.Collections;
using System.Collections.Concurrent;
using System.Text;

namespace Cd4ml.Training;

/// <summary>
/// A table read from CSV (RFC 4180: quotes, doubled quotes, newlines inside quotes) or Parquet, held by column
/// (<see cref="TextColumn"/>: interned values or UTF-8 bytes, never a string per cell). Empty fields are null. Row
/// numbers are 1-based and count data rows only (the header is not a row), so they stay stable under filtering.
/// </summary>
public sealed class CsvTable
{
    private readonly TextColumn[] cells;
    private readonly int[]? cellRows; // the rows of cells this table holds, in order; null = all of them
    private readonly CsvTable? parent;
    private readonly int[]? parentPositions;
    private readonly ConcurrentDictionary<(int Index, ColumnType Type), TypedColumn> typed = [];

    public CsvTable(IReadOnlyList<string> columns, IReadOnlyList<string?[]> rows, IReadOnlyList<int>? rowNumbers = null)
        : this(columns, FromRows(columns.Count, rows), rows.Count, rowNumbers, null, null, null)
    {
    }

    /// <summary>A table of complete columns of equal length (a reader's output).</summary>
    internal static CsvTable FromColumns(IReadOnlyList<string> columns, TextColumn[] cells) =>
        new(columns, cells, cells.Length == 0 ? 0 : cells[0].Count, null, null, null, null);

    private CsvTable(IReadOnlyList<string> columns, TextColumn[] cells, int rowCount, IReadOnlyList<int>? rowNumbers,
        int[]? cellRows, CsvTable? parent, int[]? parentPositions)
    {
        this.cells = cells;
        this.cellRows = cellRows;
        this.parent = parent;
        this.parentPositions = parentPositions;
        Columns = columns;
        RowCount = rowCount;
        RowNumbers = rowNumbers ?? new RowNumberList(rowCount);
        Rows = new RowList(this);
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

    public int RowCount { get; }

    /// <summary>
    /// The rows as string arrays, each made when read: for tests, small tables (holdout, scoring) and messages. The
    /// trainer reads <see cref="Cell"/> and <see cref="Typed"/> instead.
    /// </summary>
    public IReadOnlyList<string?[]> Rows { get; }

    /// <summary>The data row number (in the original file) of each row.</summary>
    public IReadOnlyList<int> RowNumbers { get; }

    public int IndexOf(string column) => ColumnIndexes.TryGetValue(column, out var index) ? index : -1;

    /// <summary>The cell at a row position and column index; null when empty. Repeated values are one shared string.</summary>
    public string? Cell(int row, int column) => cells[column].Get(cellRows is null ? row : cellRows[row]);

    /// <summary>The rows at the given positions, keeping their original row numbers.</summary>
    public CsvTable Select(IReadOnlyList<int> positions)
    {
        var selected = positions.ToArray();
        return new CsvTable(Columns, cells, selected.Length, selected.Select(p => RowNumbers[p]).ToArray(),
            cellRows is null ? selected : selected.Select(p => cellRows[p]).ToArray(), this, selected);
    }

    /// <summary>
    /// A new table of this table's rows followed by <paramref name="rows"/> (in column order), built column by column:
    /// this table's cells are copied as codes or bytes, never as a string array per row. The appended rows are numbered
    /// after this table's highest row number, so a message names them as rows of the concatenated dataset.
    /// </summary>
    public CsvTable Append(IReadOnlyList<string?[]> rows)
    {
        if (rows.FirstOrDefault(r => r.Length != Columns.Count) is { } uneven)
        {
            throw new ArgumentException($"A row to append has {uneven.Length} fields; the table has {Columns.Count} columns.", nameof(rows));
        }

        var appended = new TextColumn[cells.Length];
        for (var c = 0; c < cells.Length; c++)
        {
            appended[c] = cells[c].CopyForAppend(cellRows, rows.Count);
            foreach (var row in rows)
            {
                appended[c].Add(row[c]);
            }

            appended[c].Complete();
        }

        var count = RowCount + rows.Count;
        IReadOnlyList<int>? rowNumbers = RowNumbers is RowNumberList ? null
            : [.. RowNumbers, .. Enumerable.Range((RowCount == 0 ? 0 : RowNumbers.Max()) + 1, rows.Count)];
        return new CsvTable(Columns, appended, count, rowNumbers, null, null, null);
    }

    /// <summary>
    /// The column at <paramref name="index"/> parsed as <paramref name="type"/>, computed once per table: a selection
    /// gathers what the table it was selected from has already parsed, else parses its own rows (an interned column
    /// parses each distinct value once).
    /// </summary>
    internal TypedColumn Typed(int index, ColumnType type) =>
        typed.GetOrAdd((index, type), key =>
            parent?.typed.TryGetValue(key, out var parsed) == true
                ? parsed.Gather(parentPositions!)
                : TypedColumn.Parse(key.Type, cells[key.Index], cellRows));

    /// <summary>Parses the given columns up front, several at once (each column is independent work).</summary>
    internal void ParseColumns(IEnumerable<(int Index, ColumnType Type)> columns) =>
        Parallel.ForEach(columns, column => Typed(column.Index, column.Type));

    /// <summary>The column's cells, for code that reads them per distinct value (inference).</summary>
    internal TextColumn CellsOf(int index) => cells[index];

    /// <summary>The rows of <see cref="CellsOf"/> this table holds; null when all, in order.</summary>
    internal IReadOnlyList<int>? CellRows => cellRows;

    public static CsvTable Parse(ReadOnlySpan<byte> utf8)
    {
        var reader = new CsvReader();
        reader.Feed(utf8);
        return reader.Finish();
    }

    public static CsvTable Parse(string text) => Parse(Encoding.UTF8.GetBytes(text));

    /// <summary>Reads a CSV stream through a small pooled buffer: the file is never held whole, as bytes or as text.</summary>
    public static CsvTable Read(Stream utf8)
    {
        var reader = new CsvReader();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            int read;
            while ((read = utf8.Read(buffer, 0, buffer.Length)) > 0)
            {
                reader.Feed(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return reader.Finish();
    }

    /// <summary>Writes the table as CSV (\n line ends, quoting only where needed), so <see cref="Parse(string)"/> reads it back unchanged.</summary>
    public string ToCsv()
    {
        using var utf8 = new MemoryStream();
        WriteCsv(utf8);
        return Encoding.UTF8.GetString(utf8.GetBuffer(), 0, (int)utf8.Length);
    }

    /// <summary>
    /// Writes the table as UTF-8 CSV (the encoding of <see cref="ToCsv"/>, no byte order mark) from its columns: a bytes
    /// cell is copied as it is, an interned one encoded from its shared string; no string or array per row.
    /// </summary>
    public void WriteCsv(Stream utf8)
    {
        using var writer = new CsvWriter(utf8);
        foreach (var column in Columns)
        {
            writer.WriteField(column);
        }

        writer.EndRecord();
        for (var r = 0; r < RowCount; r++)
        {
            var row = cellRows is null ? r : cellRows[r];
            foreach (var column in cells)
            {
                if (column.IsInterned || column.IsAbsent(row))
                {
                    writer.WriteField(column.Get(row));
                }
                else if (System.Text.Unicode.Utf8.IsValid(column.Utf8(row)))
                {
                    writer.WriteField(column.Utf8(row));
                }
                else
                {
                    writer.WriteField(column.Get(row)); // invalid sequences are written as U+FFFD, as read
                }
            }

            writer.EndRecord();
        }
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

    private static TextColumn[] FromRows(int columns, IReadOnlyList<string?[]> rows)
    {
        var built = Enumerable.Range(0, columns).Select(_ => new TextColumn(rows.Count)).ToArray();
        foreach (var row in rows)
        {
            for (var c = 0; c < columns; c++)
            {
                built[c].Add(row[c]);
            }
        }

        foreach (var column in built)
        {
            column.Complete();
        }

        return built;
    }

    /// <summary>CSV fields into a pooled buffer, flushed to the stream as it fills; quoting as <see cref="AppendRecord"/> does.</summary>
    private sealed class CsvWriter(Stream output) : IDisposable
    {
        private static readonly SearchValues<byte> NeedsQuotes = SearchValues.Create(",\"\r\n"u8);

        private byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        private int length;
        private bool firstField = true;

        public void WriteField(string? field)
        {
            if (string.IsNullOrEmpty(field))
            {
                WriteField(ReadOnlySpan<byte>.Empty);
                return;
            }

            var encoded = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(field.Length));
            try
            {
                WriteField(encoded.AsSpan(0, Encoding.UTF8.GetBytes(field, encoded)));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(encoded);
            }
        }

        public void WriteField(ReadOnlySpan<byte> field)
        {
            if (!firstField)
            {
                Write(","u8);
            }

            firstField = false;
            if (field.IndexOfAny(NeedsQuotes) < 0 && (field.IsEmpty || (field[0] != (byte)' ' && field[^1] != (byte)' ')))
            {
                Write(field);
                return;
            }

            Write("\""u8);
            int quote;
            while ((quote = field.IndexOf((byte)'"')) >= 0)
            {
                Write(field[..(quote + 1)]);
                Write("\""u8);
                field = field[(quote + 1)..];
            }

            Write(field);
            Write("\""u8);
        }

        public void EndRecord()
        {
            Write("\n"u8);
            firstField = true;
        }

        private void Write(ReadOnlySpan<byte> bytes)
        {
            if (length + bytes.Length > buffer.Length)
            {
                Flush();
                if (bytes.Length > buffer.Length)
                {
                    output.Write(bytes);
                    return;
                }
            }

            bytes.CopyTo(buffer.AsSpan(length));
            length += bytes.Length;
        }

        private void Flush()
        {
            output.Write(buffer, 0, length);
            length = 0;
        }

        public void Dispose()
        {
            Flush();
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = [];
        }
    }

    private sealed class RowList(CsvTable table) : IReadOnlyList<string?[]>
    {
        public int Count => table.RowCount;

        public string?[] this[int index] =>
            (uint)index < (uint)table.RowCount
                ? Enumerable.Range(0, table.Columns.Count).Select(c => table.Cell(index, c)).ToArray()
                : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<string?[]> GetEnumerator()
        {
            for (var r = 0; r < Count; r++)
            {
                yield return this[r];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class RowNumberList(int count) : IReadOnlyList<int>
    {
        public int Count => count;

        public int this[int index] => (uint)index < (uint)count ? index + 1 : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<int> GetEnumerator() => Enumerable.Range(1, count).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>
    /// The CSV tokenizer, fed in chunks of any size: the current record's fields collect in a reused buffer and go to
    /// their columns when the record ends, once its field count is checked.
    /// </summary>
    private sealed class CsvReader
    {
        private static readonly SearchValues<byte> Special = SearchValues.Create(",\r\n\""u8);

        private byte[] record = new byte[4096];
        private int recordLength;
        private readonly List<int> fieldEnds = [];
        private bool inQuotes;
        private bool quoteInQuotes; // a quote inside quotes: the next byte says whether it was doubled or closing
        private int pendingPreamble = 3; // the first bytes may be a UTF-8 byte order mark
        private byte[] preamble = new byte[3];
        private int preambleLength;
        private string[]? header;
        private TextColumn[]? columns;
        private int records;

        private int FieldLength => recordLength - (fieldEnds.Count == 0 ? 0 : fieldEnds[^1]);

        public void Feed(ReadOnlySpan<byte> chunk)
        {
            if (pendingPreamble > 0)
            {
                var take = Math.Min(pendingPreamble, chunk.Length);
                chunk[..take].CopyTo(preamble.AsSpan(preambleLength));
                preambleLength += take;
                pendingPreamble -= take;
                chunk = chunk[take..];
                if (pendingPreamble > 0)
                {
                    return;
                }

                FeedPreamble();
            }

            Tokenize(chunk);
        }

        private void FeedPreamble()
        {
            pendingPreamble = 0;
            var start = preamble.AsSpan(0, preambleLength);
            Tokenize(start.StartsWith("\uFEFF"u8) ? start[3..] : start);
            preamble = [];
        }

        private void Tokenize(ReadOnlySpan<byte> chunk)
        {
            var i = 0;
            while (i < chunk.Length)
            {
                if (quoteInQuotes)
                {
                    quoteInQuotes = false;
                    if (chunk[i] == (byte)'"')
                    {
                        Append(chunk.Slice(i, 1));
                        i++;
                        continue;
                    }

                    inQuotes = false;
                }

                if (inQuotes)
                {
                    var quote = chunk[i..].IndexOf((byte)'"');
                    if (quote < 0)
                    {
                        Append(chunk[i..]);
                        return;
                    }

                    Append(chunk.Slice(i, quote));
                    i += quote + 1;
                    quoteInQuotes = true;
                    continue;
                }

                switch (chunk[i])
                {
                    case (byte)'"' when FieldLength == 0:
                        inQuotes = true;
                        i++;
                        break;
                    case (byte)',':
                        fieldEnds.Add(recordLength);
                        i++;
                        break;
                    case (byte)'\r':
                        i++;
                        break;
                    case (byte)'\n':
                        EndRecord();
                        i++;
                        break;
                    default:
                    {
                        // A run of ordinary bytes at once (a quote here is inside a field, so literal).
                        var run = chunk[(i + 1)..].IndexOfAny(Special);
                        var length = run < 0 ? chunk.Length - i : run + 1;
                        Append(chunk.Slice(i, length));
                        i += length;
                        break;
                    }
                }
            }
        }

        private void Append(ReadOnlySpan<byte> bytes)
        {
            if (recordLength + bytes.Length > record.Length)
            {
                Array.Resize(ref record, Math.Max(record.Length * 2, recordLength + bytes.Length));
            }

            bytes.CopyTo(record.AsSpan(recordLength));
            recordLength += bytes.Length;
        }

        private void EndRecord()
        {
            fieldEnds.Add(recordLength);
            var fields = fieldEnds.Count;
            if (header is null)
            {
                header = new string[fields];
                for (var f = 0; f < fields; f++)
                {
                    header[f] = Encoding.UTF8.GetString(Field(f)).Trim();
                }

                if (header.Any(h => h.Length == 0))
                {
                    throw new FormatException("The CSV header has an empty column name.");
                }

                columns = header.Select(_ => new TextColumn()).ToArray();
            }
            else
            {
                records++;
                var blankLine = fields == 1 && recordLength == 0 && header.Length > 1;
                if (!blankLine)
                {
                    if (fields != header.Length)
                    {
                        throw new FormatException($"CSV row {records} has {fields} fields; the header has {header.Length}.");
                    }

                    for (var f = 0; f < fields; f++)
                    {
                        columns![f].AddUtf8(Field(f));
                    }
                }
            }

            recordLength = 0;
            fieldEnds.Clear();
        }

        private ReadOnlySpan<byte> Field(int f)
        {
            var start = f == 0 ? 0 : fieldEnds[f - 1];
            return record.AsSpan(start, fieldEnds[f] - start);
        }

        public CsvTable Finish()
        {
            if (pendingPreamble > 0)
            {
                FeedPreamble();
            }

            if (quoteInQuotes)
            {
                quoteInQuotes = false;
                inQuotes = false;
            }

            if (inQuotes)
            {
                throw new FormatException("The CSV ends inside a quoted field.");
            }

            if (recordLength > 0 || fieldEnds.Count > 0)
            {
                EndRecord();
            }

            if (header is null)
            {
                throw new FormatException("The CSV is empty: a header row is required.");
            }

            foreach (var column in columns!)
            {
                column.Complete();
            }

            return FromColumns(header, columns);
        }
    }
}
