using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Cd4ml.Serving.Tests;

/// <summary>`cd4ml serve` as a real process, as a pod runs it.</summary>
public sealed class ServeProcessTests
{
    [Test]
    public async Task ServeProcess_OnSigterm_FinishesTheInFlightRequest_AndExitsZero()
    {
        var model = await ServingHarness.ModelAsync();
        var port = ServingHarness.FreePort("127.0.0.1");
        var environment = new Dictionary<string, string>(ServingHarness.Settings(model, port: port).ToEnvironment())
        {
            [ServeSettings.FaultLatencyVariable] = "1s",
        };
        using var process = Start(["serve"], environment);
        var address = new Uri($"http://127.0.0.1:{port}");
        await WaitForReadyAsync(process, address);

        var body = JsonSerializer.Serialize(ServingHarness.Requests(model.Holdout, 1)[0]);
        var inFlight = ServingHarness.Http.PostAsync(new Uri(address, "/predict"), new StringContent(body, Encoding.UTF8, "application/json"));
        await Task.Delay(300);
        Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

        using var response = await inFlight;
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(process.ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task ServeProcess_AfterSigterm_IsUnreadyButKeepsAnsweringForTheShutdownDelay()
    {
        var model = await ServingHarness.ModelAsync();
        var port = ServingHarness.FreePort("127.0.0.1");
        var environment = new Dictionary<string, string>(ServingHarness.Settings(model, port: port).ToEnvironment())
        {
            [ServeSettings.ShutdownDelayVariable] = "3s",
        };
        using var process = Start(["serve"], environment);
        var address = new Uri($"http://127.0.0.1:{port}");
        await WaitForReadyAsync(process, address);

        Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        await Task.Delay(500);
        using var readiness = await ServingHarness.Http.GetAsync(new Uri(address, "/readyz"));
        var body = JsonSerializer.Serialize(ServingHarness.Requests(model.Holdout, 1)[0]);
        using var prediction = await ServingHarness.Http.PostAsync(new Uri(address, "/predict"),
            new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.That(process.HasExited, Is.False, "the listener stays open during the delay");
        Assert.That(readiness.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(prediction.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(process.ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task ServeProcess_WithInvalidSettings_ExitsTwo_NamingTheVariable()
    {
        using var process = Start(["serve", "--model-uri", "s3://models/runs/x/model.zip"], new Dictionary<string, string>());
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.That(process.ExitCode, Is.EqualTo(2));
        Assert.That(error, Does.Contain(ServeSettings.ModelSha256Variable));
    }

    internal static Process Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cd4ml.dll"));
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var name in startInfo.Environment.Keys.Where(k => k.StartsWith("CD4ML_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        return Process.Start(startInfo)!;
    }

    private static async Task WaitForReadyAsync(Process process, Uri address)
    {
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var ready = await ServingHarness.Http.GetAsync(new Uri(address, "/readyz"));
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail($"cd4ml serve did not become ready; output:\n{output}");
    }
}
