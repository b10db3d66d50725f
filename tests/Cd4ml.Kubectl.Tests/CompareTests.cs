using Cd4ml.Api.V1Alpha1;
using NUnit.Framework;

namespace Cd4ml.Kubectl.Tests;

/// <summary>`kubectl cd4ml compare`: columns are versions or runs; ≠ marks rows that differ, ★ the best metric value.</summary>
public sealed class CompareTests
{
    [Test]
    public async Task ModelVersions_SideBySide_MarkChangedParametersAndDatasets_AndTheBestMetrics()
    {
        var cluster = await PluginCluster.StartAsync("compare-mv");
        await cluster.CreateAsync(Samples.Version(1, "sales-forecast", "20", Samples.DigestA, 0.45, approved: true));
        await cluster.CreateAsync(Samples.Version(2, "sales-forecast", "31", Samples.DigestB, 0.412, approved: false));

        var result = await cluster.RunAsync("compare", "mv", "sales-2", "sales-1");
        TestContext.Out.WriteLine(result.Output);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var rows = Rows(result.Output);
        Assert.Multiple(() =>
        {
            Assert.That(rows["field"], Is.EqualTo(new[] { "sales-1", "sales-2" }), "columns in version order");
            Assert.That(rows["≠ rmse"], Is.EqualTo(new[] { "0.45", "0.412 ★" }));
            Assert.That(rows["≠ r2"], Is.EqualTo(new[] { "0.89", "0.91 ★" }));
            Assert.That(rows["≠ store.7.rmse"], Is.EqualTo(new[] { "0.52", "0.482 ★" }), "slice metrics");
            Assert.That(rows["trainRows"], Is.EqualTo(new[] { "8000", "8000" }), "equal rows are not marked");
            Assert.That(rows["≠ numberOfLeaves"], Is.EqualTo(new[] { "20", "31" }));
            Assert.That(rows["algorithm"], Is.EqualTo(new[] { "LightGbm", "LightGbm" }));
            Assert.That(rows["≠ digest"], Is.EqualTo(new[] { "sha256:1111aaaa2222", "sha256:9999aaaa2222" }));
            Assert.That(rows["≠ approved"], Is.EqualTo(new[] { "yes", "no" }));
            Assert.That(result.Output, Does.Contain("slice metrics").And.Contain("parameters").And.Contain("dataset"));
        });
    }

    [Test]
    public async Task TrainingRunsOfAModel_SideBySide_FromTheirCurrentAttempts()
    {
        var cluster = await PluginCluster.StartAsync("compare-tr");
        await cluster.CreateAsync(Samples.Run("sales-lightgbm", Algorithm.LightGbm, "31", 0.412));
        await cluster.CreateAsync(Samples.Run("sales-fasttree", Algorithm.FastTree, "31", 0.47));
        var other = Samples.Run("churn", Algorithm.FastTree, "8", 0.3);
        other.Spec.ModelName = "churn";
        await cluster.CreateAsync(other);

        var result = await cluster.RunAsync("compare", "tr", "--model", "sales");
        var none = await cluster.RunAsync("compare", "tr", "--model", "nothing");
        TestContext.Out.WriteLine(result.Output);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var rows = Rows(result.Output);
        Assert.Multiple(() =>
        {
            Assert.That(rows["field"], Is.EquivalentTo(new[] { "sales-lightgbm", "sales-fasttree" }), "only the model's runs");
            var lightGbmColumn = Array.IndexOf(rows["field"], "sales-lightgbm");
            Assert.That(rows["≠ rmse"][lightGbmColumn], Is.EqualTo("0.412 ★"));
            Assert.That(rows["≠ algorithm"], Is.EquivalentTo(new[] { "LightGbm", "FastTree" }));
            Assert.That(rows["numberOfLeaves"], Is.EqualTo(new[] { "31", "31" }));
            Assert.That(rows["gates"], Is.EqualTo(new[] { "2/2 passed", "2/2 passed" }));
            Assert.That(none.ExitCode, Is.EqualTo(1));
            Assert.That(none.Error.Trim(), Is.EqualTo($"error: no trainingruns.cd4ml.io of model \"nothing\" in namespace \"{cluster.Namespace}\""));
        });
    }

    /// <summary>The plain table as "marker key" → cells, e.g. "≠ rmse" → ["0.45", "0.412 ★"].</summary>
    private static Dictionary<string, string[]> Rows(string table)
    {
        var rows = new Dictionary<string, string[]>();
        foreach (var line in table.Split('\n'))
        {
            var cells = line.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (cells.Length < 2 || cells.All(c => c.All(ch => ch is '─' or ' ')))
            {
                continue;
            }

            var marked = cells[0] == "≠";
            var key = marked ? $"≠ {cells[1]}" : cells[0];
            rows.TryAdd(key, cells[(marked ? 2 : 1)..]);
        }

        return rows;
    }
}
