using Cd4ml.Kubectl.Views;
using NUnit.Framework;

namespace Cd4ml.Kubectl.Tests;

/// <summary>The comparison's pure part: which rows differ and which column is best.</summary>
public sealed class SideBySideTests
{
    private static ComparedItem Item(string name, Dictionary<string, double> metrics, string leaves, string digest) =>
        new(name, new Dictionary<string, string> { ["model"] = "sales" }, metrics,
            new Dictionary<string, string> { ["numberOfLeaves"] = leaves }, new Dictionary<string, string> { ["digest"] = digest });

    [Test]
    public void LowerRmseAndHigherR2_AreBest_AndOnlyDifferingRowsAreMarked()
    {
        var rows = SideBySide.Rows([
            Item("sales-1", new() { ["rmse"] = 0.45, ["r2"] = 0.89, ["trainRows"] = 800, ["slice.store.1.rmse"] = 0.5 }, "20", "sha256:aaa"),
            Item("sales-2", new() { ["rmse"] = 0.41, ["r2"] = 0.91, ["trainRows"] = 800, ["slice.store.1.rmse"] = 0.6 }, "31", "sha256:aaa"),
        ]);
        ComparisonRow Row(string key) => rows.Single(r => r.Key == key);

        Assert.Multiple(() =>
        {
            Assert.That(Row("rmse").Best, Is.EquivalentTo(new[] { 1 }));
            Assert.That(Row("r2").Best, Is.EquivalentTo(new[] { 1 }));
            Assert.That(Row("store.1.rmse").Section, Is.EqualTo("slice metrics"));
            Assert.That(Row("store.1.rmse").Best, Is.EquivalentTo(new[] { 0 }));
            Assert.That(Row("trainRows").Differs, Is.False, "equal values are not marked");
            Assert.That(Row("trainRows").Best, Is.Empty, "counts have no better direction");
            Assert.That(Row("numberOfLeaves").Differs, Is.True);
            Assert.That(Row("digest").Differs, Is.False);
            Assert.That(Row("model").Differs, Is.False);
        });
    }

    [Test]
    public void AMetricOnlyOneColumnHas_DiffersAndShowsAsMissingElsewhere()
    {
        var rows = SideBySide.Rows([
            Item("a", new() { ["rmse"] = 0.4, ["holdout.rmse"] = 0.5 }, "20", "sha256:a"),
            Item("b", new() { ["rmse"] = 0.4 }, "20", "sha256:b"),
        ]);
        var holdout = rows.Single(r => r.Key == "holdout.rmse");
        Assert.Multiple(() =>
        {
            Assert.That(holdout.Values, Is.EqualTo(new[] { "0.5", null }));
            Assert.That(holdout.Differs, Is.True);
            Assert.That(rows.Single(r => r.Key == "rmse").Best, Is.Empty, "a tie is no difference");
            Assert.That(rows.Select(r => r.Section).Distinct(), Is.EqualTo(new[] { "summary", "metrics", "parameters", "dataset" }));
        });
    }
}
