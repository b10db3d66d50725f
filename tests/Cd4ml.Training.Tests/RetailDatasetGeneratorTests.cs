using Cd4ml.Training.Datasets;

namespace Cd4ml.Training.Tests;

public sealed class RetailDatasetGeneratorTests
{
    [Test]
    public void Generate_IsByteIdentical_ForTheSameSeed_AndDiffersForAnother()
    {
        var first = RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 2000, Seed = 11 });
        var second = RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 2000, Seed = 11 });
        var other = RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 2000, Seed = 12 });

        Assert.That(second, Is.EqualTo(first));
        Assert.That(other, Is.Not.EqualTo(first));
    }

    [Test]
    public void Generate_MatchesItsOwnSchema_OnceReturnsAreFiltered()
    {
        var table = CsvTable.Parse(RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 3000, Seed = 3 }));
        var (kept, dropped) = DatasetSchema.ApplyFilters(table, RetailDatasetGenerator.Filters);

        Assert.That(table.Columns, Is.EqualTo(RetailDatasetGenerator.Columns));
        Assert.That(table.Rows, Has.Count.EqualTo(3000));
        Assert.That(dropped, Is.GreaterThan(0), "some returns (negative unit_sales) are generated");
        Assert.That(DatasetSchema.Validate(table, RetailDatasetGenerator.Schema, "unit_sales"), Is.Not.Empty, "returns break min 0");
        Assert.That(DatasetSchema.Validate(kept, RetailDatasetGenerator.Schema, "unit_sales"), Is.Empty);
    }

    [Test]
    public void Generate_HasWeeklySeasonality_WithSaturdaysAboveTuesdays()
    {
        var table = CsvTable.Parse(RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 8000, Seed = 5, ReturnRate = 0 }));
        double Mean(DayOfWeek day) => table.Rows
            .Where(r => DateTime.Parse(r[0]!, System.Globalization.CultureInfo.InvariantCulture).DayOfWeek == day)
            .Average(r => double.Parse(r[8]!, System.Globalization.CultureInfo.InvariantCulture));

        Assert.That(Mean(DayOfWeek.Saturday), Is.GreaterThan(Mean(DayOfWeek.Tuesday) * 1.2));
    }
}
