using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Serving.Tests;

/// <summary>What the server writes to its log: little by default, more only when asked.</summary>
public sealed class LoggingTests
{
    [Test]
    public async Task ServeProcess_AtDefaultSettings_WritesAtMostFiveLinesPerThousandRequests()
    {
        var model = await ServingHarness.ModelAsync();
        var port = ServingHarness.FreePort("127.0.0.1");
        var environment = new Dictionary<string, string>(ServingHarness.Settings(model, port: port).ToEnvironment());
        environment.Remove(ServeSettings.AdminVariable);
        using var process = ServeProcessTests.Start(["serve"], environment);
        var lines = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var address = new Uri($"http://127.0.0.1:{port}");
        try
        {
            await WaitForReadyAsync(process, address, lines);
            var atReady = lines.Count;

            var body = JsonSerializer.Serialize(ServingHarness.Requests(model.Holdout, 1)[0]);
            var statuses = await SendAsync(address, body, 1000);

            await Task.Delay(500);
            var written = lines.Skip(atReady).ToList();
            Assert.That(statuses.Count(s => s == HttpStatusCode.OK), Is.EqualTo(1000));
            Assert.That(written, Has.Count.LessThanOrEqualTo(5), string.Join("\n", written.Take(20)));
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    [Test]
    public async Task AccessLog_WithSampleOne_WritesOneLinePerRequest_AndClientErrorsStayOutOfTheDefaultLog()
    {
        var model = await ServingHarness.ModelAsync();
        var captured = new CapturingLoggerProvider();
        await using var server = await ModelServer.StartAsync(ServingHarness.Settings(model) with { AccessLogSample = 1 },
            logging => logging.AddProvider(captured));
        Assert.That((await ServingHarness.SettledAsync(server)).State, Is.EqualTo(ServingState.Ready), server.Status.Reason);
        captured.Lines.Clear();

        var body = JsonSerializer.Serialize(ServingHarness.Requests(model.Holdout, 1)[0]);
        await SendAsync(server.Address, body, 10);
        var (badRequest, _) = await ServingHarness.PostAsync(server.Address, "/predict", "{\"store_nbr\": ");

        Assert.That(badRequest, Is.EqualTo(HttpStatusCode.BadRequest));
        var access = captured.Lines.Where(l => l.Category == ModelServer.AccessLogCategory).Select(l => l.Message).ToList();
        Assert.That(access, Has.Count.EqualTo(11));
        Assert.That(access.Count(m => m.StartsWith("POST /predict 200 ", StringComparison.Ordinal)), Is.EqualTo(5));
        Assert.That(access.Count(m => m.StartsWith("GET /healthz 200 ", StringComparison.Ordinal)), Is.EqualTo(5));
        Assert.That(access.Count(m => m.StartsWith("POST /predict 400 ", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(captured.Lines.Where(l => l.Category != ModelServer.AccessLogCategory), Is.Empty,
            "nothing else at the default level: no per-request lines from ASP.NET Core, no line for a client error");
    }

    [Test]
    public async Task LogLevelDebug_AddsOneLinePerClientError_NamingTheProblem()
    {
        var model = await ServingHarness.ModelAsync();
        var captured = new CapturingLoggerProvider();
        await using var server = await ModelServer.StartAsync(ServingHarness.Settings(model) with { LogLevel = LogLevel.Debug },
            logging => logging.AddProvider(captured));
        Assert.That((await ServingHarness.SettledAsync(server)).State, Is.EqualTo(ServingState.Ready), server.Status.Reason);
        captured.Lines.Clear();

        await ServingHarness.PostAsync(server.Address, "/predict", "[1, 2]");

        var refused = captured.Lines.Where(l => l.Category == typeof(ModelServer).FullName).Select(l => l.Message).ToList();
        Assert.That(refused, Has.Count.EqualTo(1));
        Assert.That(refused[0], Does.Contain("must be a JSON object"));
    }

    /// <summary>Half /predict, half /healthz, 8 at a time.</summary>
    private static async Task<List<HttpStatusCode>> SendAsync(Uri address, string predictBody, int count)
    {
        var statuses = new ConcurrentBag<HttpStatusCode>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var response = i % 2 == 0
                ? await ServingHarness.Http.PostAsync(new Uri(address, "/predict"), new StringContent(predictBody, Encoding.UTF8, "application/json"), ct)
                : await ServingHarness.Http.GetAsync(new Uri(address, "/healthz"), ct);
            statuses.Add(response.StatusCode);
        });
        return [.. statuses];
    }

    private static async Task WaitForReadyAsync(Process process, Uri address, IEnumerable<string> output)
    {
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

        Assert.Fail($"cd4ml serve did not become ready; output:\n{string.Join("\n", output)}");
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string)> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
