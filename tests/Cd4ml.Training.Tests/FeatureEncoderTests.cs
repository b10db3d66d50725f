using Cd4ml.Training.Datasets;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cd4ml.Training.Tests;

/// <summary>
/// The learner trains on vectors the <see cref="FeatureEncoder"/> computes while the saved model runs the ML.NET
/// featurizer: any difference between the two is train/serve skew, so they are compared slot by slot.
/// </summary>
public sealed class FeatureEncoderTests
{
    [Test]
    public void Encoder_MatchesTheFittedFeaturizer_OnRetailData()
    {
        var generated = CsvTable.Parse(RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 3000, Seed = 3 }));
        var promotion = generated.IndexOf("onpromotion");
        var table = new CsvTable(generated.Columns, generated.Rows.Select((row, r) =>
        {
            var copy = (string?[])row.Clone();
            copy[promotion] = r % 7 == 0 ? null : copy[promotion]; // the generator writes no missing values
            return copy;
        }).ToList());
        var schema = RetailDatasetGenerator.Schema;
        var layout = new ModelInputLayout(MlTask.Regression, schema.Single(c => c.Name == RetailDatasetGenerator.LabelColumn),
            schema.Where(c => c.Name != RetailDatasetGenerator.LabelColumn).ToList());

        AssertSameVectors(layout, table.Select(Enumerable.Range(0, 2000).ToList()), table.Select(Enumerable.Range(2000, 1000).ToList()));
    }

    [Test]
    public void Encoder_MatchesTheFittedFeaturizer_ForMissingValues_UnseenTerms_AndEveryType()
    {
        ColumnDefinition[] features =
        [
            new("amount", ColumnType.Number, Nullable: true),
            new("count", ColumnType.Integer, Nullable: true),
            new("flag", ColumnType.Boolean, Nullable: true),
            new("day", ColumnType.Date, Nullable: true),
            new("colour", ColumnType.String, Nullable: true),
            new("size", ColumnType.String, Nullable: true),
        ];
        var label = new ColumnDefinition("kind", ColumnType.String);
        var layout = new ModelInputLayout(MlTask.MulticlassClassification, label, features);
        string[] columns = [.. features.Select(f => f.Name), label.Name];
        var train = new CsvTable(columns,
        [
            ["1.5", "3", "true", "2024-02-29", "red", "S", "a"],
            ["", "7", "false", "2024-03-01", "blue", "M", "b"],
            ["-2.25", "", "", "", "", "L", "c"],
            ["10", "1", "true", "2023-12-31", "red", null, "a"],
        ]);
        var scoring = new CsvTable(columns,
        [
            [null, null, null, null, null, null, null],
            ["0.5", "2", "true", "2025-01-01", "green", "XL", null],
            ["3", "4", "false", "2024-02-29", "blue", "S", "b"],
        ]);

        AssertSameVectors(layout, train, scoring);
    }

    private static void AssertSameVectors(ModelInputLayout layout, CsvTable train, CsvTable other)
    {
        var ml = new MLContext(seed: 1);
        var trainView = layout.BuildDataView(train, withLabel: true);
        var featurizer = ModelPipeline.Featurizer(ml, layout).Fit(trainView);
        var encoder = FeatureEncoder.FromFitted(featurizer, layout, trainView.Schema);

        foreach (var view in new[] { trainView, layout.BuildDataView(other, withLabel: false) })
        {
            var expected = ReadVectors(featurizer.Transform(view));
            var actual = ReadVectors(encoder.Encode(view));
            Assert.That(actual, Has.Count.EqualTo(expected.Count));
            for (var r = 0; r < expected.Count; r++)
            {
                Assert.That(actual[r], Is.EqualTo(expected[r]), $"row {r}");
            }
        }
    }

    private static List<float[]> ReadVectors(IDataView view)
    {
        var column = view.Schema[ModelPipeline.FeaturesColumn];
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var vector = default(VBuffer<float>);
        var rows = new List<float[]>();
        while (cursor.MoveNext())
        {
            getter(ref vector);
            rows.Add(vector.DenseValues().ToArray());
        }

        return rows;
    }
}
