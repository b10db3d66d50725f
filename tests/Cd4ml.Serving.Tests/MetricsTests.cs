namespace Cd4ml.Serving.Tests;

public sealed class MetricsTests
{
    [Test]
    public async Task Metrics_ExposeEveryOutcomeCounterAtZero_BeforeTheFirstRequest()
    {
        var model = await ServingHarness.ModelAsync();
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model, track: "canary") with { Deployment = "checkout" });

        var text = await ServingHarness.Http.GetStringAsync(new Uri(server.Address, "/metrics"));

        foreach (var outcome in new[] { "success", "client_error", "server_error" })
        {
            Assert.That(text, Does.Contain($"cd4ml_predictions_total{{model=\"sales\",version=\"sales-1\",track=\"canary\",deployment=\"checkout\",outcome=\"{outcome}\"}} 0"));
        }

        Assert.That(text, Does.Contain("cd4ml_prediction_duration_seconds_bucket{model=\"sales\",version=\"sales-1\",track=\"canary\",deployment=\"checkout\",le=\"0.005\"} 0"));
        Assert.That(text, Does.Contain("cd4ml_model_ready{model=\"sales\",version=\"sales-1\",deployment=\"checkout\"}"));
    }

    [Test]
    public async Task Metrics_WithoutADeployment_CarryAnEmptyDeploymentLabel()
    {
        var model = await ServingHarness.ModelAsync();
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model));

        var text = await ServingHarness.Http.GetStringAsync(new Uri(server.Address, "/metrics"));

        var series = text.Split('\n').Where(l => l.StartsWith("cd4ml_", StringComparison.Ordinal)).ToList();
        Assert.That(series, Is.Not.Empty);
        Assert.That(series, Has.All.Contain("deployment=\"\""));
    }
}
