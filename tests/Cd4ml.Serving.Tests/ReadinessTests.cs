using System.Net;
using System.Text;
using Cd4ml.Artifacts;
using Cd4ml.Training;

namespace Cd4ml.Serving.Tests;

public sealed class ReadinessTests
{
    [Test]
    public async Task Server_BecomesReady_OnlyAfterVerifyingTheSha256AndPassingTheSkewCheck()
    {
        var model = await ServingHarness.ModelAsync();
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model));

        var status = await ServingHarness.SettledAsync(server);
        var (code, body) = await ServingHarness.GetJsonAsync(server.Address, "/readyz");

        Assert.That(status.State, Is.EqualTo(ServingState.Ready));
        Assert.That(code, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.GetProperty("sha256").GetString(), Is.EqualTo(model.Sha256));
        Assert.That(body.GetProperty("warnings").GetArrayLength(), Is.Zero, "the real model reproduces its holdout metrics");
        Assert.That(await ServingHarness.Http.GetStringAsync(new Uri(server.Address, "/metrics")),
            Does.Contain("cd4ml_model_ready{model=\"sales\",version=\"sales-1\",deployment=\"\"} 1"));
    }

    [Test]
    public async Task Server_ListensAtOnce_AndStaysUnreadyWhileTheModelCannotBeFetched()
    {
        var model = await ServingHarness.ModelAsync();
        var missing = new S3Location("no-such-bucket-cd4ml", "runs/x/");
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model, prefix: missing));

        using var health = await ServingHarness.Http.GetAsync(new Uri(server.Address, "/healthz"));
        await Task.Delay(500);
        var (code, body) = await ServingHarness.GetJsonAsync(server.Address, "/readyz");

        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(code, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(body.GetProperty("state").GetString(), Is.EqualTo("Loading"));
        Assert.That(body.GetProperty("reason").GetString(), Does.Contain("retrying").And.Contain("no-such-bucket-cd4ml"));
    }

    [Test]
    public async Task Sha256Mismatch_KeepsTheServerUnready_WithBothDigestsInTheReason()
    {
        var model = await ServingHarness.ModelAsync();
        var wrong = new string('0', 64);
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model, sha256: wrong));

        var status = await ServingHarness.SettledAsync(server);
        var (code, body) = await ServingHarness.GetJsonAsync(server.Address, "/readyz");
        var (predictCode, _) = await ServingHarness.PostAsync(server.Address, "/predict", "{}");

        Assert.That(status.State, Is.EqualTo(ServingState.Failed));
        Assert.That(code, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(body.GetProperty("reason").GetString(), Does.Contain(model.Sha256).And.Contain(wrong).And.Contain("model.zip"));
        Assert.That(predictCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.ServerError), Is.EqualTo(1));
        Assert.That(await ServingHarness.Http.GetStringAsync(new Uri(server.Address, "/metrics")),
            Does.Contain("cd4ml_model_ready{model=\"sales\",version=\"sales-1\",deployment=\"\"} 0"));
    }

    [Test]
    public async Task SkewCheck_KeepsTheServerUnready_NamingTheMetric_WhenHoldoutLabelsWereTampered()
    {
        var model = await ServingHarness.ModelAsync();
        var prefix = await ServingHarness.CopyAsync(model, (name, bytes) => name == ModelManifest.HoldoutFileName ? DoubleTheLabels(bytes) : bytes);
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model, prefix));

        var status = await ServingHarness.SettledAsync(server);
        var (code, body) = await ServingHarness.GetJsonAsync(server.Address, "/readyz");

        Assert.That(status.State, Is.EqualTo(ServingState.Failed));
        Assert.That(code, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        var reason = body.GetProperty("reason").GetString();
        Assert.That(reason, Does.Contain("skew").And.Contain("rmse: recorded").And.Contain("observed"));
        Assert.That(body.GetProperty("warnings")[0].GetString(), Does.Contain("holdout.csv differs"));
    }

    [Test]
    public async Task SkewCheck_AcceptsTheTamperedHoldout_WhenTheToleranceIsHuge()
    {
        var model = await ServingHarness.ModelAsync();
        var prefix = await ServingHarness.CopyAsync(model, (name, bytes) => name == ModelManifest.HoldoutFileName ? DoubleTheLabels(bytes) : bytes);
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model, prefix) with { SkewTolerance = 1000 });

        Assert.That((await ServingHarness.SettledAsync(server)).State, Is.EqualTo(ServingState.Ready));
    }

    [Test]
    public async Task MissingHoldout_MakesTheServerReady_WithAWarningThatTheSkewCheckWasSkipped()
    {
        var model = await ServingHarness.ModelAsync();
        var prefix = await ServingHarness.CopyAsync(model, (name, bytes) => name == ModelManifest.HoldoutFileName ? null : bytes);
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model, prefix));

        await ServingHarness.SettledAsync(server);
        var (code, body) = await ServingHarness.GetJsonAsync(server.Address, "/readyz");

        Assert.That(code, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.GetProperty("warnings")[0].GetString(), Does.Contain("holdout.csv").And.Contain("skew check skipped"));
    }

    [Test]
    public async Task Stopping_TurnsReadinessOff_BeforeTheHostGoesAway()
    {
        var model = await ServingHarness.ModelAsync();
        var server = await ServingHarness.StartAsync(ServingHarness.Settings(model));
        await ServingHarness.SettledAsync(server);

        await server.StopAsync();

        Assert.That(server.Status.State, Is.EqualTo(ServingState.ShuttingDown));
        Assert.That(server.Status.IsReady, Is.False);
        await server.DisposeAsync();
    }

    private static byte[] DoubleTheLabels(byte[] holdout)
    {
        var lines = Encoding.UTF8.GetString(holdout).Split('\n');
        var label = Array.IndexOf(lines[0].Split(','), "unit_sales");
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            var cells = lines[i].Split(',');
            cells[label] = (double.Parse(cells[label], System.Globalization.CultureInfo.InvariantCulture) * 2 + 1)
                .ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            lines[i] = string.Join(',', cells);
        }

        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }
}
