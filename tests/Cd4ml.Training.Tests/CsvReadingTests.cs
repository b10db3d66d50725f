using System.Globalization;
using System.Text;

namespace Cd4ml.Training.Tests;

/// <summary>The streamed CSV reader: RFC 4180 edge cases at any chunk boundary, both column storage forms, and its errors.</summary>
public sealed class CsvReadingTests
{
    private static readonly byte[] Tricky = Encoding.UTF8.GetBytes(
        "\uFEFFname , note,amount\r\n" +
        "\"Smith, Jane\",\"said \"\"hi\"\"\r\nthen left\",1.5\r\n" +
        ",\"\",\r\n" +
        "\r\n" +
        "plain,a\"quote inside,  \r\n" +
        "x,\"\",-2");

    private static readonly string?[][] TrickyRows =
    [
        ["Smith, Jane", "said \"hi\"\r\nthen left", "1.5"],
        [null, null, null],
        ["plain", "a\"quote inside", "  "],
        ["x", null, "-2"],
    ];

    [Test]
    public void Parse_ReadsQuotedCommasNewlinesAndQuotes_CrLf_Bom_EmptyCellsAndBlankLines()
    {
        var table = CsvTable.Parse(Tricky);

        Assert.That(table.Columns, Is.EqualTo(new[] { "name", "note", "amount" }), "BOM dropped, header trimmed");
        Assert.That(table.Rows, Is.EqualTo(TrickyRows));
        Assert.That(table.RowNumbers, Is.EqualTo(new[] { 1, 2, 3, 4 }), "the blank line is not a row");
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(7)]
    public void Read_GivesTheSameTable_WhateverTheChunksTheStreamReturns(int chunk)
    {
        var table = CsvTable.Read(new TrickleStream(Tricky, chunk));

        Assert.That(table.Columns, Is.EqualTo(new[] { "name", "note", "amount" }));
        Assert.That(table.Rows, Is.EqualTo(TrickyRows));
    }

    [Test]
    public void HeaderOnly_IsATableWithNoRows()
    {
        var table = CsvTable.Parse("\uFEFFx,y\r\n"u8);

        Assert.That((table.Columns, table.RowCount), Is.EqualTo((new[] { "x", "y" }, 0)));
    }

    [TestCase("", "The CSV is empty: a header row is required.")]
    [TestCase("a,b\n1,2\n3\n", "CSV row 2 has 1 fields; the header has 2.")]
    [TestCase("a,b\n1,\"2\n", "The CSV ends inside a quoted field.")]
    [TestCase("a,,b\n", "The CSV header has an empty column name.")]
    [TestCase("a,b,a\n", "The CSV header names column 'a' twice.")]
    public void Parse_RejectsMalformedCsv_SayingWhatIsWrong(string csv, string message)
    {
        var error = Assert.Throws<FormatException>(() => CsvTable.Parse(csv));

        Assert.That(error!.Message, Is.EqualTo(message));
    }

    [Test]
    public void RepeatedValues_AreOneSharedString()
    {
        var table = CsvTable.Parse("family\nDAIRY\nBREAD\nDAIRY\n");

        Assert.That(table.Cell(2, 0), Is.SameAs(table.Cell(0, 0)));
    }

    [Test]
    public void AColumnOfMostlyDistinctValues_KeepsBytes_AndReadsParsesAndInfersAsAnInternedOne()
    {
        var rows = TextColumn.MaximumDistinct + 5000;
        var csv = new StringBuilder("id,amount\n");
        for (var row = 1; row <= rows; row++)
        {
            var amount = row == 70_000 ? "n/a" : row % 97 == 0 ? "" : (row / 8.0).ToString(CultureInfo.InvariantCulture);
            csv.Append(CultureInfo.InvariantCulture, $"id-{row},{amount}\n");
        }

        var table = CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())));

        Assert.That(table.CellsOf(1).IsInterned, Is.False);
        Assert.That((table.Cell(0, 0), table.Cell(0, 1), table.Cell(96, 1), table.Cell(rows - 1, 0)),
            Is.EqualTo(("id-1", "0.125", (string?)null, $"id-{rows}")));
        var schema = DatasetSchema.Infer(table);
        Assert.That(schema.Select(c => (c.Name, c.Type, c.Nullable)),
            Is.EqualTo(new[] { ("id", ColumnType.String, false), ("amount", ColumnType.Number, true) }));
        Assert.That(table.Typed(1, ColumnType.Number).Numbers[7], Is.EqualTo(1.0));
        var violation = DatasetSchema.Validate(table, schema, "id").Single();
        Assert.That(violation.ToString(), Is.EqualTo("column 'amount': value that is not a valid Number in 1 row (first: row 70000 'n/a')"));
    }

    [Test]
    public void UnparsableNumbers_AreNamedByRowAndValue_InAnInternedColumn()
    {
        var table = CsvTable.Parse("y,x\n1,2\n2,n/a\n3,4\n4, \n5,1e400\n");

        var violation = DatasetSchema.Validate(table, [new("x", ColumnType.Number, Nullable: true)], "y").Single();

        Assert.That(violation.ToString(), Is.EqualTo("column 'x': value that is not a valid Number in 2 rows (first: row 2 'n/a', row 5 '1e400')"));
    }

    [Test]
    public void Selection_ReadsItsOwnRows_AndKeepsTheirNumbers()
    {
        var table = CsvTable.Parse("y\n5\n-1\n3\n");

        var selected = table.Select([2, 0]).Select([0]);

        Assert.That((selected.Cell(0, 0), selected.RowNumbers[0], selected.Typed(0, ColumnType.Integer).Integers[0]), Is.EqualTo(("3", 3, 3L)));
    }

    /// <summary>A stream that returns at most a few bytes per read, like a slow network.</summary>
    private sealed class TrickleStream(byte[] content, int chunk) : MemoryStream(content)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);
    }
}
