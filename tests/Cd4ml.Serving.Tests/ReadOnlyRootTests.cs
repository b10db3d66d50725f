using System.Net;
using System.Text;
using System.Text.Json;
using Cd4ml.Testing;

namespace Cd4ml.Serving.Tests;

/// <summary>
/// `cd4ml serve` as the model-server pod runs it: uid 65532, read-only root filesystem, only the /tmp emptyDir
/// (TMPDIR) writable. The pod spec itself is checked in Cd4ml.Operator.Tests (PodSecurityTests).
/// </summary>
public sealed class ReadOnlyRootTests
{
    [Test]
    public async Task ServeCommand_OnAReadOnlyRoot_LoadsTheModel_AndAnswersPredictions()
    {
        if (ReadOnlyRootSandbox.Unavailable is { } missing)
        {
            Assert.Ignore($"The read-only root sandbox {missing}.");
        }

        var model = await ServingHarness.ModelAsync();
        var port = ServingHarness.FreePort("127.0.0.1");
        using var sandbox = ReadOnlyRootSandbox.Create();
        using var process = sandbox.Start(ReadOnlyRootSandbox.Cli("serve"),
            ServingHarness.Settings(model, port: port).ToEnvironment());
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var address = new Uri($"http://127.0.0.1:{port}");
            var (status, readiness) = await ReadinessAsync(process, address);
            lock (output)
            {
                Assert.That(status, Is.EqualTo(HttpStatusCode.OK), $"{readiness}\n{output}");
            }

            var body = JsonSerializer.Serialize(ServingHarness.Requests(model.Holdout, 1)[0]);
            var (predicted, _) = await ServingHarness.PostAsync(address, "/predict", body);
            Assert.That(predicted, Is.EqualTo(HttpStatusCode.OK));
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Polls /readyz until the model is loaded or failed (or the process exits); returns the last answer.</summary>
    private static async Task<(HttpStatusCode? Status, string Body)> ReadinessAsync(System.Diagnostics.Process process, Uri address)
    {
        (HttpStatusCode? Status, string Body) last = (null, "no answer");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await ServingHarness.Http.GetAsync(new Uri(address, "/readyz"));
                last = (response.StatusCode, await response.Content.ReadAsStringAsync());
                if (response.IsSuccessStatusCode || last.Body.Contains("\"Failed\"", StringComparison.Ordinal))
                {
                    return last;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        return last;
    }
}
