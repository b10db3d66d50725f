using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cd4ml.LocalCluster;

namespace Cd4ml.Testing;

/// <summary>One sample of a PromQL result: the series labels (empty for scalars) and the value.</summary>
public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A real Prometheus (Debian's build: no kubernetes_sd, so targets come from a file_sd targets file this fixture
/// rewrites) on a free 127.0.0.1 port with a temporary TSDB. Killed on dispose; the TSDB, config and log are deleted
/// unless <see cref="KeepLogs"/> is set (or CD4ML_KEEP_LOGS=1). The binary is CD4ML_PROMETHEUS or /usr/bin/prometheus;
/// when neither exists, <c>apt-get install -y --no-install-recommends prometheus</c> is run.
/// </summary>
public sealed class PrometheusServer : LoopbackServer
{
    public const string JobName = "cd4ml";
    private const string DefaultExecutable = "/usr/bin/prometheus";

    private static readonly Lazy<Task<PrometheusServer>> Shared = new(() => StartAsync(TimeSpan.FromSeconds(1)));
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private readonly HttpClient http;
    private readonly SemaphoreSlim targetsLock = new(1, 1);

    private PrometheusServer(LocalProcess process, string workDirectory, int port, TimeSpan scrapeInterval)
        : base(process, workDirectory, port)
    {
        ScrapeInterval = scrapeInterval;
        Address = new Uri($"http://127.0.0.1:{port}");
        http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>http://127.0.0.1:port</summary>
    public Uri Address { get; }

    public TimeSpan ScrapeInterval { get; }

    public override string LogPath => Path.Combine(WorkDirectory, "prometheus.log");

    /// <summary>The file_sd targets file (JSON), re-read every second.</summary>
    public string TargetsPath => Path.Combine(WorkDirectory, "targets.json");

    /// <summary>One server per test process (1 s scrape interval), started on first use.</summary>
    public static Task<PrometheusServer> SharedAsync() => Shared.Value;

    /// <summary>Stops the shared server if it was started (call from a [SetUpFixture]'s one-time teardown).</summary>
    public static Task StopSharedAsync(bool keepLogs) => StopSharedAsync(Shared, keepLogs);

    /// <summary>Starts a server scraping every <paramref name="scrapeInterval"/> (1 s suits tests, 5 s benchmarks); rules are evaluated as often.</summary>
    public static async Task<PrometheusServer> StartAsync(TimeSpan scrapeInterval, TimeSpan? evaluationInterval = null,
        CancellationToken cancellationToken = default)
    {
        var executable = await LocateOrInstallAsync(cancellationToken);
        return await StartAsync("prometheus", async (workDirectory, port) =>
        {
            var configPath = Path.Combine(workDirectory, "prometheus.yml");
            await File.WriteAllTextAsync(Path.Combine(workDirectory, "targets.json"), "[]", cancellationToken);
            await File.WriteAllTextAsync(configPath, Config(scrapeInterval, evaluationInterval ?? scrapeInterval, Path.Combine(workDirectory, "targets.json")),
                cancellationToken);
            var process = LocalProcess.Start(executable,
            [
                $"--config.file={configPath}",
                $"--storage.tsdb.path={Path.Combine(workDirectory, "data")}",
                $"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1d",
            ], Path.Combine(workDirectory, "prometheus.log"));
            return new PrometheusServer(process, workDirectory, port, scrapeInterval);
        }, cancellationToken);
    }

    /// <summary>
    /// Replaces the scrape targets (<c>ip:port</c>, each with its own labels). The file is written to a temporary name and
    /// renamed, so Prometheus never reads half a file. Takes effect within one file_sd refresh (1 s).
    /// </summary>
    public async Task SetTargetsAsync(IEnumerable<(string Address, IReadOnlyDictionary<string, string> Labels)> targets,
        CancellationToken cancellationToken = default)
    {
        var json = JsonSerializer.Serialize(targets.Select(t => new { targets = new[] { t.Address }, labels = t.Labels }));
        await targetsLock.WaitAsync(cancellationToken);
        try
        {
            var temporary = TargetsPath + ".tmp";
            await File.WriteAllTextAsync(temporary, json, cancellationToken);
            File.Move(temporary, TargetsPath, overwrite: true);
        }
        finally
        {
            targetsLock.Release();
        }
    }

    /// <summary>Runs an instant query; a scalar gives one sample without labels, a vector one sample per series.</summary>
    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string promql, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}", cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"query '{promql}' failed: {body}");
        }

        var data = root.GetProperty("data");
        var result = data.GetProperty("result");
        return data.GetProperty("resultType").GetString() switch
        {
            "scalar" => [new PrometheusSample(new Dictionary<string, string>(), ParseValue(result))],
            "vector" => result.EnumerateArray().Select(series => new PrometheusSample(
                series.GetProperty("metric").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString() ?? ""),
                ParseValue(series.GetProperty("value")))).ToList(),
            var other => throw new NotSupportedException($"query '{promql}' returned a {other}; use an instant vector or scalar expression."),
        };
    }

    /// <summary>The single value of a query, or null when the result is empty (e.g. no series yet).</summary>
    public async Task<double?> QueryValueAsync(string promql, CancellationToken cancellationToken = default) =>
        await QueryAsync(promql, cancellationToken) switch
        {
            [] => null,
            [var single] => single.Value,
            var many => throw new InvalidOperationException($"query '{promql}' returned {many.Count} series; aggregate it to one."),
        };

    /// <summary>
    /// Waits until Prometheus scrapes each of <paramref name="addresses"/> (ip:port) successfully; with none given, until
    /// there is at least one target and every target is up.
    /// </summary>
    public async Task WaitForTargetsUpAsync(IEnumerable<string>? addresses = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var expected = addresses?.ToHashSet() ?? [];
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        var last = "";
        while (true)
        {
            var body = await http.GetStringAsync("/api/v1/targets?state=active", cancellationToken);
            using var document = JsonDocument.Parse(body);
            var targets = document.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
                .Select(t => (Address: t.GetProperty("labels").GetProperty("instance").GetString()!, Health: t.GetProperty("health").GetString()!,
                    Error: t.GetProperty("lastError").GetString()))
                .ToList();
            var up = targets.Where(t => t.Health == "up").Select(t => t.Address).ToHashSet();
            if (expected.Count > 0 ? expected.IsSubsetOf(up) : targets.Count > 0 && up.Count == targets.Count)
            {
                return;
            }

            last = string.Join(", ", targets.Select(t => $"{t.Address}={t.Health} {t.Error}"));
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Prometheus targets not up after {timeout ?? TimeSpan.FromSeconds(30)}: [{last}]; see {LogPath}");
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    protected override string Name => "prometheus";

    protected override Uri ReadinessUri => new(Address, "/-/ready");

    protected override void DisposeClients() => http.Dispose();

    private static string Config(TimeSpan scrapeInterval, TimeSpan evaluationInterval, string targetsPath) => string.Create(CultureInfo.InvariantCulture, $"""
        global:
          scrape_interval: {Duration(scrapeInterval)}
          scrape_timeout: {Duration(scrapeInterval)}
          evaluation_interval: {Duration(evaluationInterval)}
        scrape_configs:
          - job_name: {JobName}
            file_sd_configs:
              - files: ['{targetsPath}']
                refresh_interval: 1s
        """);

    private static string Duration(TimeSpan value) => string.Create(CultureInfo.InvariantCulture, $"{(long)value.TotalMilliseconds}ms");

    private static double ParseValue(JsonElement pair) =>
        double.Parse(pair[1].GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static async Task<string> LocateOrInstallAsync(CancellationToken cancellationToken)
    {
        var configured = Environment.GetEnvironmentVariable("CD4ML_PROMETHEUS");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured)
                ? configured
                : throw new FileNotFoundException($"CD4ML_PROMETHEUS names '{configured}', which does not exist.");
        }

        await InstallLock.WaitAsync(cancellationToken);
        try
        {
            if (!File.Exists(DefaultExecutable))
            {
                var install = Process.Start(new ProcessStartInfo("apt-get", "install -y --no-install-recommends prometheus")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    Environment = { ["DEBIAN_FRONTEND"] = "noninteractive" },
                })!;
                var output = install.StandardOutput.ReadToEndAsync(cancellationToken);
                var error = install.StandardError.ReadToEndAsync(cancellationToken);
                await install.WaitForExitAsync(cancellationToken);
                if (install.ExitCode != 0 || !File.Exists(DefaultExecutable))
                {
                    throw new FileNotFoundException(
                        $"{DefaultExecutable} missing and `apt-get install prometheus` failed ({install.ExitCode}): {await output}{await error}");
                }
            }

            return DefaultExecutable;
        }
        finally
        {
            InstallLock.Release();
        }
    }
}
