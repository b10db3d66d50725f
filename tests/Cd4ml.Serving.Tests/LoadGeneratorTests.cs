using System.Text.Json;
using Cd4ml.Serving.Load;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;

namespace Cd4ml.Serving.Tests;

/// <summary>`cd4ml load` against a real model server: rows of a dataset, feedback with the true label, pacing, counting.</summary>
public sealed class LoadGeneratorTests
{
    [Test]
    public async Task HoldoutRows_AreAllAnswered_AndEachPredictionGetsFeedbackWithItsTrueLabel()
    {
        var model = await ServingHarness.ModelAsync();
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model));
        await ServingHarness.SettledAsync(server);
        var rows = LoadRows.From(model.Holdout, RetailDatasetGenerator.LabelColumn);
        var load = new LoadGenerator(() => server.Address, rows, new LoadSettings(Rate: 0, Concurrency: 3, Feedback: true), TimeProvider.System);
        var reports = new List<LoadReport>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));

        await load.RunAsync(TimeSpan.FromSeconds(1), reports.Add, stop.Token);

        var totals = load.Totals;
        Assert.That(totals.Ok, Is.GreaterThan(50));
        Assert.That((totals.ServerErrors, totals.ClientErrors, totals.Failed, totals.FeedbackFailed), Is.EqualTo((0L, 0L, 0L, 0L)),
            "every holdout row is a valid request and every label valid feedback");
        // Stopping cancels what is in flight: a prediction answered at that moment may go without its feedback (one per worker).
        Assert.That(totals.FeedbackSent, Is.InRange(totals.Ok - 3, totals.Ok));
        Assert.That(load.AnsweredBy, Is.EqualTo(new Dictionary<string, long> { ["sales-1"] = totals.Ok }));
        Assert.That(reports.Count, Is.InRange(2, 3), "one report per interval");
        Assert.That(reports.Sum(r => r.Ok), Is.LessThanOrEqualTo(totals.Ok));
        Assert.That(reports[0].Describe(), Does.Match(@"^\d+\.\d req/s  ok \d+  5xx 0  4xx 0  failed 0  latency mean .* feedback \d+  answered by sales-1 100%$"));
    }

    [Test]
    public async Task Rate_PacesAllWorkersTogether()
    {
        var model = await ServingHarness.ModelAsync();
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model));
        await ServingHarness.SettledAsync(server);
        var load = new LoadGenerator(() => server.Address, LoadRows.From(model.Holdout, RetailDatasetGenerator.LabelColumn),
            new LoadSettings(Rate: 10, Concurrency: 8, Feedback: false), TimeProvider.System);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));

        await load.RunAsync(TimeSpan.FromSeconds(1), _ => { }, stop.Token);

        // 10 per second over 2 s, plus the request each of the 8 workers may have started as it was stopped.
        Assert.That(load.Totals.Requests, Is.InRange(10, 20 + 8));
        Assert.That(load.Totals.FeedbackSent, Is.Zero, "feedback is off");
    }

    [Test]
    public void Rows_LeaveTheLabelOut_KeepItForFeedback_AndSendEmptyCellsAsNull()
    {
        var table = CsvTable.Parse("store_nbr,family,unit_sales\n3,,4.5\n");
        var row = LoadRows.From(table, "unit_sales").Single();
        Assert.That(row.Body, Is.EqualTo("""{"store_nbr":"3","family":null}"""));
        Assert.That(row.Label, Is.EqualTo("4.5"));
        var feedback = JsonDocument.Parse(row.FeedbackBody("p-1")).RootElement;
        Assert.That(feedback.GetProperty("predictionId").GetString(), Is.EqualTo("p-1"));
        Assert.That(feedback.GetProperty("label").GetDouble(), Is.EqualTo(4.5), "a numeric label is a JSON number");
    }

    [Test]
    public void Summary_IsOneLine_NamingOnlyTheVersionsThatAnsweredInTheInterval()
    {
        var report = new LoadReport(TimeSpan.FromSeconds(10), 400, 390, 10, 0, 0, 390, 0, 2.5, 73,
            new Dictionary<string, long> { ["sales-2"] = 300, ["sales-1"] = 0, ["sales-3"] = 100 });
        Assert.That(report.Describe(), Is.EqualTo(
            "40.0 req/s  ok 390  5xx 10  4xx 0  failed 0  latency mean 2.5 ms max 73 ms  feedback 390  answered by sales-2 75%, sales-3 25%"));
    }

    [Test]
    public void Rows_WithAMissingLabelColumn_FailNamingTheColumns()
    {
        var table = CsvTable.Parse("store_nbr,family\n3,A\n");
        Assert.That(() => LoadRows.From(table, "unit_sales"), Throws.TypeOf<FormatException>()
            .With.Message.EqualTo("the dataset has no label column 'unit_sales' (columns: store_nbr, family)"));
    }
}
