using System.Globalization;
using System.Text;

namespace Cd4ml.Training.Tests;

/// <summary>
/// Appending rows to a table column by column (dataset.fromFeedback appends production rows to a large dataset) and
/// writing a table as CSV from its columns: the same cells, row numbers and bytes as going through string rows, without
/// a string array per row.
/// </summary>
public sealed class CsvAppendTests
{
    [Test]
    public void Append_KeepsTheRows_AddsNewOnes_MissingValuesAsNull_ValuesSeenOnlyInTheAppendedRowsIncluded()
    {
        var table = CsvTable.Parse("x,color,y\n1,red,2\n,blue,\n");

        var appended = table.Append([["3", "green", null], [null, "red", "5"]]);

        Assert.That(appended.Rows, Is.EqualTo(new[]
        {
            new string?[] { "1", "red", "2" }, [null, "blue", null], ["3", "green", null], [null, "red", "5"],
        }));
        Assert.That(appended.RowNumbers, Is.EqualTo(new[] { 1, 2, 3, 4 }));
        Assert.That(appended.CellsOf(1).IsInterned, Is.True);
        Assert.That(appended.Cell(3, 1), Is.SameAs(table.Cell(0, 1)), "an appended value the dataset has is the dataset's shared string");
        Assert.That(appended.Typed(0, ColumnType.Integer).States, Is.EqualTo(new[] { TypedColumn.Valid, TypedColumn.Absent, TypedColumn.Valid, TypedColumn.Absent }));
        Assert.That(table.RowCount, Is.EqualTo(2), "the table appended to is unchanged");
        Assert.That(DatasetSchema.Infer(appended).Select(c => (c.Name, c.Type, c.Nullable)), Is.EqualTo(new[]
        {
            ("x", ColumnType.Integer, true), ("color", ColumnType.String, false), ("y", ColumnType.Integer, true),
        }));
    }

    [Test]
    public void Append_ToAColumnOfBytes_KeepsBytes_AndTheAppendedCellsReadAndParse()
    {
        var rows = TextColumn.MaximumDistinct + 10;
        var csv = new StringBuilder("id,amount\n");
        for (var row = 1; row <= rows; row++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"id-{row},{row / 4.0}\n");
        }

        var table = CsvTable.Parse(csv.ToString());

        var appended = table.Append([["new-1", "0.5"], [null, null], ["new-2", "n/a"]]);

        Assert.That((appended.CellsOf(0).IsInterned, appended.CellsOf(1).IsInterned), Is.EqualTo((false, false)));
        Assert.That(appended.RowCount, Is.EqualTo(rows + 3));
        Assert.That(Enumerable.Range(rows - 1, 4).Select(r => (appended.Cell(r, 0), appended.Cell(r, 1))), Is.EqualTo(new (string?, string?)[]
        {
            ($"id-{rows}", (rows / 4.0).ToString(CultureInfo.InvariantCulture)), ("new-1", "0.5"), (null, null), ("new-2", "n/a"),
        }));
        Assert.That(appended.Cell(0, 0), Is.EqualTo("id-1"));
        var amounts = appended.Typed(1, ColumnType.Number);
        Assert.That((amounts.Numbers[rows], amounts.States[rows + 1], amounts.States[rows + 2]),
            Is.EqualTo((0.5, TypedColumn.Absent, TypedColumn.Invalid)));
    }

    [Test]
    public void Append_NumbersTheAppendedRowsAfterTheTablesRows_SoSchemaViolationsNameThem()
    {
        var table = CsvTable.Parse("y,x\n1,2\n2,n/a\n3,4\n");

        var appended = table.Append([["4", "5"], ["5", "oops"]]);

        var violation = DatasetSchema.Validate(appended, [new("x", ColumnType.Number)], "y").Single();
        Assert.That(violation.ToString(), Is.EqualTo("column 'x': value that is not a valid Number in 2 rows (first: row 2 'n/a', row 5 'oops')"));
    }

    [Test]
    public void Append_ToASelection_KeepsItsRowsAndTheirNumbers_AndNumbersTheNewRowsAfterTheHighest()
    {
        var table = CsvTable.Parse("y,color\n5,red\n-1,blue\n3,red\n");
        var selected = table.Select([2, 0]);

        var appended = selected.Append([["7", "blue"]]);

        Assert.That(appended.Rows, Is.EqualTo(new[] { new string?[] { "3", "red" }, ["5", "red"], ["7", "blue"] }));
        Assert.That(appended.RowNumbers, Is.EqualTo(new[] { 3, 1, 4 }));
        Assert.That(appended.Typed(0, ColumnType.Integer).Integers, Is.EqualTo(new long[] { 3, 5, 7 }));
    }

    [Test]
    public void Append_RejectsARowOfAnotherWidth()
    {
        var table = CsvTable.Parse("a,b\n1,2\n");

        var error = Assert.Throws<ArgumentException>(() => table.Append([["1"]]))!;

        Assert.That(error.Message, Does.StartWith("A row to append has 1 fields; the table has 2 columns."));
    }

    [Test]
    public void Append_CopiesTheColumns_AllocatingLessThanAStringArrayPerRowWould()
    {
        const int rows = 100_000;
        var table = LargeTable(rows);
        var production = new[] { new string?[] { "9", "blue", "new", "id-new" } };

        var before = GC.GetAllocatedBytesForCurrentThread();
        var appended = table.Append(production);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(appended.RowCount, Is.EqualTo(rows + 1));
        var rowArrays = (long)rows * (24 + 8 * table.Columns.Count);
        Assert.That(allocated, Is.LessThan(rowArrays), "the rows are copied as codes and bytes, not as a string?[] per row");
    }

    [Test]
    public void WriteCsv_WritesNoObjectPerRow()
    {
        const int rows = 100_000;
        var table = LargeTable(rows);
        table.WriteCsv(Stream.Null); // the pooled buffers are rented once

        var before = GC.GetAllocatedBytesForCurrentThread();
        table.WriteCsv(Stream.Null);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.LessThan(rows), "under a byte a row: no string or array per row or cell");
    }

    [Test]
    public void WriteCsv_WritesWhatAppendRecordWritesForEachRow_InBothColumnForms_InvalidUtf8AsReplacementCharacters()
    {
        var csv = new List<byte>("name,note,id\n"u8.ToArray());
        csv.AddRange("\"Smith, Jane\",\"said \"\"hi\"\"\r\nthen left\",\" padded \"\n,\"\",\n"u8.ToArray());
        for (var row = 0; row <= TextColumn.MaximumDistinct; row++)
        {
            csv.AddRange(Encoding.UTF8.GetBytes($"n,ä {row % 3},\"{row}, or \"\"{row}\"\"\"\n"));
        }

        // After the id column switched to bytes, so its invalid byte is stored as read.
        csv.AddRange("bad,"u8.ToArray());
        csv.AddRange([0xC3, 0x28, (byte)',', 0xFF, (byte)'\n']);

        var table = CsvTable.Parse(csv.ToArray()).Append([["appended", null, "x\"y"]]);
        Assert.That((table.CellsOf(1).IsInterned, table.CellsOf(2).IsInterned), Is.EqualTo((true, false)));
        var expected = new StringBuilder();
        CsvTable.AppendRecord(expected, table.Columns);
        foreach (var row in table.Rows)
        {
            CsvTable.AppendRecord(expected, row);
        }

        using var written = new MemoryStream();
        table.WriteCsv(written);

        Assert.That(written.ToArray(), Is.EqualTo(Encoding.UTF8.GetBytes(expected.ToString())));
        Assert.That(table.ToCsv(), Is.EqualTo(expected.ToString()));
    }

    /// <summary>Integers, a category, text with a comma (quoted when written) and distinct ids (a bytes column).</summary>
    private static CsvTable LargeTable(int rows)
    {
        var csv = new StringBuilder("n,color,note,id\n");
        for (var row = 0; row < rows; row++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{row % 50},{(row % 3 == 0 ? "red" : "blue")},\"a, b\",id-{row}\n");
        }

        var table = CsvTable.Parse(csv.ToString());
        Assert.That(table.CellsOf(3).IsInterned, Is.False);
        return table;
    }
}
