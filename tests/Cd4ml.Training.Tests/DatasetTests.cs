namespace Cd4ml.Training.Tests;

public sealed class DatasetTests
{
    [Test]
    public void Csv_RoundTripsQuotesCommasAndNewlines()
    {
        var table = new CsvTable(["a", "b"], [["x,y", "say \"hi\""], ["line\nbreak", null], [" padded ", "plain"]]);

        var parsed = CsvTable.Parse(table.ToCsv());

        Assert.That(parsed.Rows, Is.EqualTo(table.Rows));
    }

    [Test]
    public void TimeSplit_PutsTheLatestDatesInValidation_AndKeepsEachDateOnOneSide()
    {
        var dates = Enumerable.Range(0, 100).Select(i => new DateOnly(2017, 1, 1).AddDays(i / 4)).ToArray();
        var shuffled = dates.OrderBy(d => (d.DayNumber * 7919) % 13).ToArray();
        var table = new CsvTable(["date", "y"], shuffled.Select(d => new string?[] { d.ToString("yyyy-MM-dd"), "1" }).ToList());

        var split = DatasetSplitter.Split(table, new SplitSettings(SplitMethod.Time, 0.2, 1, "date"));

        var latestTrain = split.Train.Max(p => shuffled[p]);
        var earliestValidation = split.Validation.Min(p => shuffled[p]);
        Assert.That(latestTrain, Is.LessThan(earliestValidation));
        Assert.That(split.Validation, Has.Count.EqualTo(20));
        Assert.That(split.Train.Concat(split.Validation).Order(), Is.EqualTo(Enumerable.Range(0, 100)));
    }

    [Test]
    public void RandomSplit_IsTheSameForTheSameSeed_AndDifferentForAnother()
    {
        var table = new CsvTable(["y"], Enumerable.Range(0, 200).Select(i => new string?[] { i.ToString() }).ToList());
        var settings = new SplitSettings(SplitMethod.Random, 0.25, 9);

        var first = DatasetSplitter.Split(table, settings);
        var second = DatasetSplitter.Split(table, settings);
        var other = DatasetSplitter.Split(table, settings with { Seed = 10 });

        Assert.That(second.Validation, Is.EqualTo(first.Validation));
        Assert.That(other.Validation, Is.Not.EqualTo(first.Validation));
        Assert.That(first.Validation, Has.Count.EqualTo(50));
        Assert.That(first.Validation, Is.Ordered);
    }

    [Test]
    public void Filters_DropRowsOutsideTheRange_KeepingOriginalRowNumbers()
    {
        var table = new CsvTable(["y"], new[] { "5", "-1", "3", "-2", "100" }.Select(v => new string?[] { v }).ToList());

        var (kept, dropped) = DatasetSchema.ApplyFilters(table, [new RowFilter("y", Min: 0, Max: 50)]);

        Assert.That(dropped, Is.EqualTo(3));
        Assert.That(kept.RowNumbers, Is.EqualTo(new[] { 1, 3 }));
    }

    [Test]
    public void Validate_CountsNullsInNonNullableColumns_AndNamesTheFirstFiveRows()
    {
        var table = new CsvTable(["a"], Enumerable.Range(1, 10).Select(i => new string?[] { i % 3 == 0 ? null : "1" }).Concat(
            Enumerable.Range(1, 9).Select(_ => new string?[] { null })).ToList());

        var violation = DatasetSchema.Validate(table, [new ColumnDefinition("a", ColumnType.Integer)], "y").Single();

        Assert.That((violation.Column, violation.Count), Is.EqualTo(("a", 12)));
        Assert.That(violation.FirstRows, Is.EqualTo(new[] { 3, 6, 9, 11, 12 }));
    }
}
