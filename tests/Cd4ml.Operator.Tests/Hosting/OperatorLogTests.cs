using System.Collections.Concurrent;
using Cd4ml.LocalCluster;
using Cd4ml.Runtime.Metrics;
using Cd4ml.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Hosting;

/// <summary>The operator's default logs stay small while Prometheus and probes call it.</summary>
public sealed class OperatorLogTests
{
    [Test]
    public async Task ScrapesAndProbes_WriteNoPerRequestLogLines_AtDefaultSettings()
    {
        var plane = await ControlPlane.SharedAsync();
        var url = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        var captured = new CapturingLoggerProvider();
        var app = OperatorHost.Build(new OperatorOptions { Kubeconfig = plane.KubeconfigPath, ListenUrl = url, LeaderElection = false },
            services =>
            {
                services.AddSingleton(new RuntimeMetrics(Prometheus.Metrics.NewCustomRegistry()));
                services.AddSingleton<ILoggerProvider>(captured);
            });
        await app.StartAsync();
        try
        {
            using var http = new HttpClient();
            for (var i = 0; i < 100; i++)
            {
                await http.GetAsync($"{url}{(i % 2 == 0 ? "/metrics" : "/healthz")}");
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        var perRequest = captured.Lines.Where(l => l.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)).ToList();
        Assert.That(perRequest, Is.Empty, "ASP.NET Core's per-request lines are off by default");
        Assert.That(captured.Lines.Count, Is.LessThan(50), "100 requests must not produce a line each:\n" + string.Join('\n', captured.Lines));
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Queue { get; } = new();

        public IReadOnlyList<string> Lines => [.. Queue];

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Queue);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> queue) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
                Func<TState, Exception?, string> formatter) =>
                queue.Enqueue($"{category} {logLevel}: {formatter(state, exception)}");
        }
    }
}
