using System.IO.Compression;
using Microsoft.ML.Data;

namespace Cd4ml.Training.Tests;

/// <summary>Default hyperparameters, date features and reproducible model archives: no S3 needed.</summary>
public sealed class TrainerDefaultsTests
{
    [Test]
    public void Resolve_GivesLightGbmTheHistGradientBoostingDefaults_WithEarlyStoppingAboveTenThousandRows()
    {
        var small = AlgorithmCatalog.Resolve(TrainingAlgorithm.LightGbm, new Dictionary<string, string>(), 10_000);
        var large = AlgorithmCatalog.Resolve(TrainingAlgorithm.LightGbm, new Dictionary<string, string>(), 10_001);

        Assert.That(small, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["numberOfTrees"] = "100", ["learningRate"] = "0.1", ["numberOfLeaves"] = "31", ["minimumExampleCountPerLeaf"] = "20",
            ["l2Regularization"] = "0", ["earlyStoppingRounds"] = "0",
        }));
        Assert.That(large["earlyStoppingRounds"], Is.EqualTo("10"));
    }

    [Test]
    public void Resolve_KeepsWhatTheRunSet_AndRecordsOnlyThatForLinearLearners()
    {
        var set = new Dictionary<string, string> { ["numberOfTrees"] = "7", ["earlyStoppingRounds"] = "0" };

        var tree = AlgorithmCatalog.Resolve(TrainingAlgorithm.LightGbm, set, 50_000);
        var linear = AlgorithmCatalog.Resolve(TrainingAlgorithm.Sdca, new Dictionary<string, string> { ["l2Regularization"] = "2" }, 50_000);

        Assert.That((tree["numberOfTrees"], tree["earlyStoppingRounds"], tree["learningRate"]), Is.EqualTo(("7", "0", "0.1")));
        Assert.That(linear, Is.EquivalentTo(new Dictionary<string, string> { ["l2Regularization"] = "2" }));
    }

    [Test]
    public void DateFeature_BecomesDayOfWeekMonthDayOfMonthYearAndDayOfYear()
    {
        var date = new ColumnDefinition("day", ColumnType.Date, Nullable: true);
        var layout = new ModelInputLayout(MlTask.Regression, new ColumnDefinition("y", ColumnType.Number), [date]);
        var table = new CsvTable(["day", "y"], [["2017-03-05", "1"], [null, "2"]]);

        var view = layout.BuildDataView(table, withLabel: true);

        Assert.That(layout.NumericFeatureNames, Is.EqualTo(new[] { "day.dayOfWeek", "day.month", "day.dayOfMonth", "day.year", "day.dayOfYear" }));
        Assert.That(layout.NumericFeatureNames.Select(n => ((float[])view.ValuesOf(n))[0]), Is.EqualTo(new[] { 0f, 3f, 5f, 2017f, 64f }),
            "2017-03-05 is a Sunday, the 64th day of its year");
        Assert.That(layout.NumericFeatureNames.Select(n => ((float[])view.ValuesOf(n))[1]), Is.All.NaN, "an empty date leaves every part missing");
    }

    [Test]
    public void ReproducibleZip_GivesTheSameBytes_ForTheSameEntriesWrittenAtOtherTimesAndInAnotherOrder()
    {
        var first = Zip([("b.bin", [1, 2, 3]), ("a/x.txt", [4, 5])], new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero));
        var second = Zip([("a/x.txt", [4, 5]), ("b.bin", [1, 2, 3])], new DateTimeOffset(2026, 12, 1, 11, 30, 7, TimeSpan.Zero));

        var normalized = ReproducibleZip.Normalize(first);

        Assert.That(first, Is.Not.EqualTo(second));
        Assert.That(ReproducibleZip.Normalize(second), Is.EqualTo(normalized));
        using var archive = new ZipArchive(new MemoryStream(normalized));
        Assert.That(archive.Entries.Select(e => e.FullName), Is.EqualTo(new[] { "a/x.txt", "b.bin" }));
        Assert.That(archive.Entries.Select(e => e.LastWriteTime), Is.All.EqualTo(ReproducibleZip.EntryTime));
        using var content = new MemoryStream();
        archive.GetEntry("b.bin")!.Open().CopyTo(content);
        Assert.That(content.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    private static byte[] Zip(IEnumerable<(string Name, byte[] Content)> entries, DateTimeOffset time)
    {
        var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                var entry = archive.CreateEntry(name);
                entry.LastWriteTime = time;
                using var stream = entry.Open();
                stream.Write(content);
            }
        }

        return output.ToArray();
    }
}
