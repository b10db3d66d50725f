using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Cd4ml.Serving.Tests;

public sealed class FaultInjectionTests
{
    [Test]
    public async Task ConfiguredErrorRate_FailsAboutThatShareOfPredictions_As500CountedAsServerError()
    {
        var model = await ServingHarness.ModelAsync();
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model) with { Fault = new FaultSettings(0.3, TimeSpan.Zero) });
        await ServingHarness.SettledAsync(server);
        var body = JsonSerializer.Serialize(ServingHarness.Requests(model.Holdout, 1)[0]);

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 600; i++)
        {
            codes.Add((await ServingHarness.PostAsync(server.Address, "/predict", body)).Status);
        }

        var failed = codes.Count(c => c == HttpStatusCode.InternalServerError);
        Assert.That(failed / 600.0, Is.EqualTo(0.3).Within(0.07));
        Assert.That(codes.Count(c => c == HttpStatusCode.OK), Is.EqualTo(600 - failed));
        Assert.That(await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.ServerError), Is.EqualTo(failed));
        Assert.That(await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.Success), Is.EqualTo(600 - failed));
    }

    [Test]
    public async Task AdminFault_RaisesTheErrorRateAndLatency_WhileTheServerRuns()
    {
        var model = await ServingHarness.ModelAsync();
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model));
        await ServingHarness.SettledAsync(server);
        var body = JsonSerializer.Serialize(ServingHarness.Requests(model.Holdout, 1)[0]);
        Assert.That((await ServingHarness.PostAsync(server.Address, "/predict", body)).Status, Is.EqualTo(HttpStatusCode.OK));

        var (code, answer) = await ServingHarness.PostAsync(server.Address, "/admin/fault", "{\"errorRate\": 1, \"latency\": \"100ms\"}");
        var watch = Stopwatch.StartNew();
        var (predictCode, error) = await ServingHarness.PostAsync(server.Address, "/predict", body);
        watch.Stop();

        Assert.That(code, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(answer.GetProperty("errorRate").GetDouble(), Is.EqualTo(1));
        Assert.That(answer.GetProperty("latency").GetString(), Is.EqualTo("100ms"));
        Assert.That(predictCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(error.GetProperty("error").GetString(), Does.Contain("injected"));
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(95)));

        await ServingHarness.PostAsync(server.Address, "/admin/fault", "{\"errorRate\": 0, \"latency\": \"0ms\"}");
        Assert.That((await ServingHarness.PostAsync(server.Address, "/predict", body)).Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [TestCase("{\"errorRate\": 1.5}", "errorRate")]
    [TestCase("{\"latency\": \"soon\"}", "latency")]
    public async Task AdminFault_RefusesInvalidValues_NamingTheField(string json, string field)
    {
        var model = await ServingHarness.ModelAsync();
        await using var server = await ServingHarness.StartAsync(ServingHarness.Settings(model));

        var (code, body) = await ServingHarness.PostAsync(server.Address, "/admin/fault", json);

        Assert.That(code, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("field").GetString(), Is.EqualTo(field));
        Assert.That(server.Fault, Is.EqualTo(FaultSettings.None));
    }
}
