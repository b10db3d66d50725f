using System.Text;

namespace Cd4ml.Training;

/// <summary>
/// The cells of one column as read, in one of two forms. Interned: each distinct value is one string and a row holds its
/// code, so repeated values (categories, dates, flags, small numbers: most of a typical dataset) cost four bytes a row
/// and are parsed once per distinct value. Past <see cref="MaximumDistinct"/> distinct values (measurements, ids) the
/// column switches to its UTF-8 bytes with one end offset per row: no string per cell; a cell is decoded only when
/// read. An empty cell is absent (null), in both forms.
/// </summary>
internal sealed class TextColumn
{
    /// <summary>More distinct values than this and the column keeps bytes instead (the interning table would cost more than it saves).</summary>
    public const int MaximumDistinct = 1 << 16;

    private const int Absent = -1;

    private int[] codes; // interned: per row, an index into values, or Absent
    private List<string>? values = [];
    private Dictionary<string, int>? index = new(StringComparer.Ordinal);
    private byte[] bytes = []; // bytes form: the cells back to back; row r spans [ends[r - 1], ends[r])
    private int byteCount;
    private char[] decoded = new char[256];

    public TextColumn(int capacity = 1024) => codes = new int[Math.Max(capacity, 16)];

    public int Count { get; private set; }

    public bool IsInterned => values is not null;

    /// <summary>The distinct values of an interned column; <see cref="Code"/> indexes them.</summary>
    public IReadOnlyList<string> Distinct => values ?? throw new InvalidOperationException("The column holds bytes, not interned values.");

    /// <summary>The code of an interned row: an index into <see cref="Distinct"/>, or -1 when the cell is absent.</summary>
    public int Code(int row) => codes[row];

    public void Add(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            AddAbsent();
        }
        else if (values is not null)
        {
            AddInterned(value.AsSpan(), value);
        }
        else
        {
            AddUtf8(Encoding.UTF8.GetBytes(value));
        }
    }

    /// <summary>Adds a cell from its UTF-8 bytes (invalid sequences become U+FFFD, as when decoding the whole file).</summary>
    public void AddUtf8(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            AddAbsent();
            return;
        }

        if (values is null)
        {
            AppendBytes(utf8);
            return;
        }

        if (decoded.Length < Encoding.UTF8.GetMaxCharCount(utf8.Length))
        {
            decoded = new char[Encoding.UTF8.GetMaxCharCount(utf8.Length)];
        }

        var length = Encoding.UTF8.GetChars(utf8, decoded);
        AddInterned(decoded.AsSpan(0, length), null);
        if (values is null)
        {
            // Switched to bytes on this very cell: it was not stored.
            AppendBytes(utf8);
        }
    }

    private void AddAbsent()
    {
        if (values is null)
        {
            AppendBytes([]);
        }
        else
        {
            Grow();
            codes[Count++] = Absent;
        }
    }

    private void AddInterned(ReadOnlySpan<char> text, string? known)
    {
        var lookup = index!.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!lookup.TryGetValue(text, out var code))
        {
            if (values!.Count >= MaximumDistinct)
            {
                SwitchToBytes();
                if (known is not null)
                {
                    AppendBytes(Encoding.UTF8.GetBytes(known));
                }

                return;
            }

            code = values.Count;
            var value = known ?? text.ToString();
            values.Add(value);
            index.Add(value, code);
        }

        Grow();
        codes[Count++] = code;
    }

    private void Grow()
    {
        if (Count == codes.Length)
        {
            Array.Resize(ref codes, codes.Length * 2);
        }
    }

    private void SwitchToBytes()
    {
        var interned = values!;
        var utf8 = interned.Select(v => Encoding.UTF8.GetBytes(v)).ToArray();
        var rows = Count;
        var rowCodes = codes;
        values = null;
        index = null;
        codes = new int[Math.Max(rowCodes.Length, 16)]; // now the end offsets
        Count = 0;
        bytes = new byte[Math.Max(1024, utf8.Sum(u => u.Length) * 2)];
        for (var r = 0; r < rows; r++)
        {
            AppendBytes(rowCodes[r] == Absent ? [] : utf8[rowCodes[r]]);
        }
    }

    private void AppendBytes(ReadOnlySpan<byte> utf8)
    {
        if (byteCount + utf8.Length > bytes.Length)
        {
            Array.Resize(ref bytes, Math.Max(bytes.Length * 2, byteCount + utf8.Length));
        }

        utf8.CopyTo(bytes.AsSpan(byteCount));
        byteCount += utf8.Length;
        Grow();
        codes[Count++] = byteCount;
    }

    /// <summary>
    /// A new column holding this column's cells at <paramref name="rows"/> (all, in order, when null), with room for
    /// <paramref name="more"/> cells to be added: the same form and values a new column given those cells would hold,
    /// copied as codes or bytes, never as a string per cell.
    /// </summary>
    public TextColumn CopyForAppend(IReadOnlyList<int>? rows, int more)
    {
        var copy = new TextColumn((rows?.Count ?? Count) + more);
        if (rows is null && values is not null)
        {
            copy.values = [.. values];
            copy.index = new Dictionary<string, int>(index!, StringComparer.Ordinal);
            Array.Copy(codes, copy.codes, Count);
            copy.Count = Count;
        }
        else if (rows is null)
        {
            // Past MaximumDistinct: a new column given these cells would have switched to bytes too.
            copy.values = null;
            copy.index = null;
            copy.bytes = new byte[Math.Max(1024, byteCount + byteCount / Math.Max(Count, 1) * more)];
            Buffer.BlockCopy(bytes, 0, copy.bytes, 0, byteCount);
            copy.byteCount = byteCount;
            Array.Copy(codes, copy.codes, Count);
            copy.Count = Count;
        }
        else
        {
            foreach (var row in rows)
            {
                if (values is null)
                {
                    copy.AddUtf8(Utf8(row));
                }
                else if (codes[row] == Absent)
                {
                    copy.AddAbsent();
                }
                else
                {
                    copy.AddInterned(values[codes[row]], values[codes[row]]);
                }
            }
        }

        return copy;
    }

    /// <summary>Releases the spare capacity once the column is complete.</summary>
    public void Complete()
    {
        Array.Resize(ref codes, Count);
        if (values is null)
        {
            Array.Resize(ref bytes, byteCount);
        }

        decoded = [];
    }

    public bool IsAbsent(int row) => values is not null ? codes[row] == Absent : Start(row) == codes[row];

    /// <summary>The cell as a string (null when absent); an interned value is shared, a bytes cell is decoded.</summary>
    public string? Get(int row)
    {
        if (values is not null)
        {
            return codes[row] == Absent ? null : values[codes[row]];
        }

        var start = Start(row);
        return start == codes[row] ? null : Encoding.UTF8.GetString(bytes, start, codes[row] - start);
    }

    /// <summary>The UTF-8 bytes of a cell of a bytes column (empty when absent).</summary>
    public ReadOnlySpan<byte> Utf8(int row) => bytes.AsSpan(Start(row), codes[row] - Start(row));

    private int Start(int row) => row == 0 ? 0 : codes[row - 1];
}
