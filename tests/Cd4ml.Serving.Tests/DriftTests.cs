using System.Globalization;
using System.Net;
using System.Text.Json;
using Cd4ml.Training;

namespace Cd4ml.Serving.Tests;

public sealed class DriftTests
{
    private TrainedModel model = null!;

    [OneTimeSetUp]
    public async Task TrainModel() => model = await ServingHarness.ModelAsync();

    [Test]
    public void Psi_OfCountsInTheExpectedProportions_IsZero()
    {
        double[] expected = [0, 0.1, 0.2, 0.3, 0.4];

        Assert.That(PopulationStability.Index(expected, [0, 100, 200, 300, 400]), Is.EqualTo(0).Within(1e-12));
        Assert.That(PopulationStability.Index(expected, [0, 0, 0, 0, 0]), Is.EqualTo(0), "no rows: nothing to compare");
    }

    [Test]
    public void Psi_OfAShiftedDistribution_IsAboveAMajorShift_AndFiniteWhenABucketWasEmptyInTraining()
    {
        double[] expected = [0, 0.25, 0.25, 0.25, 0.25, 0];

        // Half the mass moved one bin up: a major shift by the usual rule of thumb (> 0.25).
        Assert.That(PopulationStability.Index(expected, [0, 0, 250, 250, 250, 250]), Is.GreaterThan(0.25).And.LessThan(double.PositiveInfinity));
        // A little noise stays under 0.1.
        Assert.That(PopulationStability.Index(expected, [0, 240, 260, 255, 245, 0]), Is.LessThan(0.01));
    }

    [Test]
    public async Task Monitor_CountsOnlyTheWindow_OldSlicesAgeOutAsItRotates()
    {
        var classifier = await ServingHarness.ClassifierAsync(MlTask.BinaryClassification);
        var profile = new TrainingProfile
        {
            Features =
            [
                ColumnProfile.Numeric("x1", ColumnType.Number, [0.1, 0.4, 0.6, 0.9], 4),
                ColumnProfile.Categorical("color", ColumnType.String, ["red", "blue"], 20),
            ],
            Prediction = ColumnProfile.Numeric(ColumnProfile.ProbabilityColumn, ColumnType.Number, [0.2, 0.8], 2),
            Label = ColumnProfile.Categorical("positive", ColumnType.Boolean, ["true", "false"], 20),
        };
        using var monitor = new DriftMonitor(profile, classifier.InputColumns, TimeSpan.FromMinutes(10), time: null, out var skipped);
        var input = classifier.CreateInput();
        foreach (var (x1, color) in new[] { (0.1, "red"), (0.95, "green") })
        {
            input.BeginRow();
            input.SetText(0, x1.ToString(CultureInfo.InvariantCulture));
            input.SetText(1, "0.5");
            input.SetText(2, color);
            input.EndRow();
        }

        monitor.Observe(input, classifier.Score(input));

        Assert.That(skipped, Is.Empty);
        Assert.That(monitor.Features, Is.EqualTo(new[] { "x1", "color" }));
        Assert.That(monitor.Measure().Rows, Is.EqualTo(2));
        for (var slice = 1; slice < DriftMonitor.Slices; slice++)
        {
            monitor.Rotate();
        }

        Assert.That(monitor.Measure().Rows, Is.EqualTo(2), "still inside the window");
        monitor.Rotate();
        Assert.That(monitor.Measure(), Is.EqualTo((0L, new double[] { 0, 0 }, 0.0)));
    }

    [Test]
    public async Task FeatureDrift_StaysLowForTrainingLikeInputs_AndRisesForTheFeaturesThatShift()
    {
        var requests = ServingHarness.Requests(model.Holdout, 400);
        var shifted = requests.Select(r => new Dictionary<string, object?>(r) { ["store_nbr"] = 1L, ["family"] = "NEVER_SEEN" }).ToList();
        await using var steady = await StartReadyAsync(ServingHarness.Settings(model));
        await using var drifting = await StartReadyAsync(ServingHarness.Settings(model));

        await PredictAsync(steady, requests);
        await PredictAsync(drifting, shifted);

        var calm = await DriftAsync(steady);
        var moved = await DriftAsync(drifting);
        Assert.That(calm.Rows, Is.EqualTo(400));
        Assert.That(calm.Features.Keys, Is.EquivalentTo(new[] { "store_nbr", "item_nbr", "family", "city", "onpromotion", "perishable", "holiday" }),
            "every feature but the date");
        // The holdout rows come from the latest dates (the preset splits by time), whose share of holidays differs from
        // the whole training period's: a real shift, which the metric rightly shows.
        Assert.That(calm.Features.Where(f => f.Key != "holiday").Select(f => f.Value), Has.All.LessThan(0.1), string.Join(", ", calm.Features));
        Assert.That(calm.Prediction, Is.LessThan(0.1));
        Assert.That(moved.Features["store_nbr"], Is.GreaterThan(0.2));
        Assert.That(moved.Features["family"], Is.GreaterThan(0.2));
        Assert.That(moved.Features["item_nbr"], Is.LessThan(0.1), "an unshifted feature stays low");
    }

    [Test]
    public async Task FeatureDrift_IsNotExported_UntilTheWindowHoldsTheMinimumRows()
    {
        await using var server = await StartReadyAsync(ServingHarness.Settings(model) with { DriftMinimumRows = 50 });

        await PredictAsync(server, ServingHarness.Requests(model.Holdout, 49));
        var before = await ServingHarness.Http.GetStringAsync(new Uri(server.Address, "/metrics"));
        await PredictAsync(server, ServingHarness.Requests(model.Holdout, 1));
        var after = await ServingHarness.Http.GetStringAsync(new Uri(server.Address, "/metrics"));

        Assert.That(before, Does.Contain("cd4ml_drift_window_rows{model=\"sales\",version=\"sales-1\",track=\"stable\",deployment=\"\"} 49"));
        Assert.That(before, Does.Not.Contain("cd4ml_feature_drift{").And.Not.Contain("cd4ml_prediction_drift{"));
        Assert.That(after, Does.Contain("cd4ml_feature_drift{model=\"sales\",version=\"sales-1\",track=\"stable\",deployment=\"\",feature=\"family\"}"));
        Assert.That(after, Does.Contain("cd4ml_prediction_drift{model=\"sales\",version=\"sales-1\",track=\"stable\",deployment=\"\"}"));
    }

    [Test]
    public async Task WithoutAProfile_TheModelIsServed_AndNoDriftSeriesExist()
    {
        var prefix = await ServingHarness.CopyAsync(model, (name, bytes) => name == TrainingProfile.FileName ? null : bytes);
        await using var server = await StartReadyAsync(ServingHarness.Settings(model, prefix));

        var (code, _) = await ServingHarness.PostAsync(server.Address, "/predict", JsonSerializer.Serialize(ServingHarness.Requests(model.Holdout, 1)[0]));
        var metrics = await ServingHarness.Http.GetStringAsync(new Uri(server.Address, "/metrics"));

        Assert.That(code, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(metrics, Does.Not.Contain("drift"));
    }

    private static async Task<ModelServer> StartReadyAsync(ServeSettings settings)
    {
        var server = await ServingHarness.StartAsync(settings);
        Assert.That((await ServingHarness.SettledAsync(server)).State, Is.EqualTo(ServingState.Ready), server.Status.Reason);
        return server;
    }

    private static async Task PredictAsync(ModelServer server, IReadOnlyList<Dictionary<string, object?>> rows)
    {
        foreach (var chunk in rows.Chunk(100))
        {
            var (code, body) = await ServingHarness.PostAsync(server.Address, "/predict", JsonSerializer.Serialize(new { instances = chunk }));
            Assert.That(code, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        }
    }

    /// <summary>The drift series of one server, read from its /metrics.</summary>
    private static async Task<(double Rows, Dictionary<string, double> Features, double Prediction)> DriftAsync(ModelServer server)
    {
        var lines = (await ServingHarness.Http.GetStringAsync(new Uri(server.Address, "/metrics"))).Split('\n');
        static double Value(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        var features = lines.Where(l => l.StartsWith("cd4ml_feature_drift{", StringComparison.Ordinal))
            .ToDictionary(l => l[(l.IndexOf("feature=\"", StringComparison.Ordinal) + 9)..l.IndexOf("\"}", StringComparison.Ordinal)], Value);
        return (Value(lines.Single(l => l.StartsWith("cd4ml_drift_window_rows{", StringComparison.Ordinal))), features,
            Value(lines.Single(l => l.StartsWith("cd4ml_prediction_drift{", StringComparison.Ordinal))));
    }
}
