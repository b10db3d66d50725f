using System.Globalization;
using Cd4ml.Training.Datasets;

namespace Cd4ml.Training.Tests;

public sealed class TrainingProfileTests
{
    [Test]
    public void Numeric_CutsTenBinsAtTheQuantiles_AndCountsTheMissingRateApart()
    {
        // 1..100 and 25 missing values: 10 bins of 10 values each.
        var values = Enumerable.Range(1, 100).Select(v => (double?)v).Concat(Enumerable.Repeat((double?)null, 25)).ToList();

        var profile = ColumnProfile.Numeric("x", ColumnType.Number, values, 10);

        Assert.That(profile.Edges, Is.EqualTo(new double[] { 10, 20, 30, 40, 50, 60, 70, 80, 90 }));
        Assert.That(profile.Frequencies, Has.Count.EqualTo(10).And.All.EqualTo(0.1).Within(1e-12));
        Assert.That(profile.MissingRate, Is.EqualTo(0.2));
        Assert.That(profile.Rows, Is.EqualTo(125));
        Assert.That(profile.ExpectedShares().Sum(), Is.EqualTo(1).Within(1e-12));
    }

    [Test]
    public void Numeric_WithFewDistinctValues_MergesRepeatedEdges_AndNeverCutsAtTheMaximum()
    {
        // A flag: 70% zeros, 30% ones.
        var values = Enumerable.Repeat((double?)0, 70).Concat(Enumerable.Repeat((double?)1, 30)).ToList();

        var profile = ColumnProfile.Numeric("holiday", ColumnType.Integer, values, 10);

        Assert.That(profile.Edges, Is.EqualTo(new double[] { 0 }));
        Assert.That(profile.Frequencies, Is.EqualTo(new[] { 0.7, 0.3 }).Within(1e-12));
    }

    [TestCase(-5.0, 1)]
    [TestCase(10.0, 1)]
    [TestCase(10.5, 2)]
    [TestCase(90.0, 9)]
    [TestCase(1000.0, 10)]
    [TestCase(double.NaN, 0)]
    public void BucketOf_PutsAValueInTheBinWhoseUpperEdgeIsTheFirstAtOrAboveIt_AndMissingInBucketZero(double value, int bucket)
    {
        double[] edges = [10, 20, 30, 40, 50, 60, 70, 80, 90];

        Assert.That(ColumnProfile.BucketOf(value, edges), Is.EqualTo(bucket));
    }

    [Test]
    public void Categorical_KeepsTheTopValuesByFrequency_AndCountsTheRestAsOther()
    {
        var values = Enumerable.Repeat("a", 50).Concat(Enumerable.Repeat("b", 30)).Concat(Enumerable.Repeat("c", 15))
            .Concat(Enumerable.Repeat("d", 5)).Concat(Enumerable.Repeat("", 25)).Select(v => (string?)v).ToList();

        var profile = ColumnProfile.Categorical("family", ColumnType.String, values, 2);

        Assert.That(profile.Values, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(profile.Frequencies, Is.EqualTo(new[] { 0.5, 0.3, 0.2 }).Within(1e-12), "a, b, other (c and d)");
        Assert.That(profile.MissingRate, Is.EqualTo(0.2));
        Assert.That(profile.Edges, Is.Null);
    }

    [Test]
    public void Profile_OfARetailRun_HasEveryFeatureAndThePredictionAndLabelDistributions_AndRoundTripsThroughJson()
    {
        var table = CsvTable.Parse(RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 500, Seed = 3 }));
        var schema = RetailDatasetGenerator.Schema;
        var label = schema.Single(c => c.Name == RetailDatasetGenerator.LabelColumn);
        var features = schema.Where(c => c != label).ToList();
        var train = table.Select(Enumerable.Range(0, 400).ToArray());
        var validation = table.Select(Enumerable.Range(400, 100).ToArray());
        var predictions = validation.Rows.Select(r => new Prediction(double.Parse(r[table.IndexOf(label.Name)]!, CultureInfo.InvariantCulture) + 1)).ToList();

        var profile = TrainingProfile.Build(MlTask.Regression, train, features, validation, label, predictions);
        var parsed = TrainingProfile.Parse(profile.ToJson());

        Assert.That(parsed.Features.Select(f => f.Name), Is.EqualTo(features.Select(f => f.Name)));
        Assert.That(parsed.Features.Single(f => f.Name == "family").Values, Is.Not.Empty);
        Assert.That(parsed.Features.Single(f => f.Name == "store_nbr").Edges, Is.Not.Empty);
        Assert.That(parsed.Features.Single(f => f.Name == "date").HasDistribution, Is.False, "dates move on by nature: only their missing rate");
        Assert.That(parsed.Features.Where(f => f.HasDistribution).Select(f => f.Frequencies.Sum()), Has.All.EqualTo(1).Within(1e-9));
        Assert.That((parsed.Prediction.Name, parsed.Prediction.Rows), Is.EqualTo(("score", 100)));
        Assert.That(parsed.Label.Name, Is.EqualTo(RetailDatasetGenerator.LabelColumn));
        Assert.That(parsed.Prediction.Edges![0], Is.GreaterThan(parsed.Label.Edges![0]), "predictions were the labels plus one");
        Assert.That(parsed.Features.Sum(f => f.Rows), Is.EqualTo(400 * features.Count));
    }
}
