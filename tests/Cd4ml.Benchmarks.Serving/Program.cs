using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Cd4ml.Serving;
using Cd4ml.Testing;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;

// The model server under load from wrk on loopback, one server per task (regression on the retail data, binary and
// multiclass on a small classification set), each trained by our own trainer into a local s3rver and served with
// default settings. Side by side in one run and on the same server: GET /healthz (Kestrel's floor) and single-row
// POST /predict at several concurrencies, plus 100-row batches. The machine is shared and noisy: every point runs
// several rounds (the server's points take turns within a round) and the lines report medians. For regression, also
// /predict with prediction logging at sample rate 1.0 against logging off (serving.logging).
// Usage: [seconds per point] [rounds] [tasks, e.g. regression,binary] (default 2 s, 3 rounds, every task). Numbers print in the invariant culture (InvariantGlobalization).
var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var onlyTasks = args.Length > 2 ? args[2].Split(',') : null;
int[] concurrencies = [1, 4, 16, 64];
var wrk = FindWrk();
var work = Directory.CreateTempSubdirectory("cd4ml-bench-serving-");
Console.WriteLine($"serving.machine: {Environment.ProcessorCount} cores, load average {LoadAverage()} at start; wrk {seconds}s per point, {rounds} rounds, loopback");

await using var s3 = await S3Server.StartAsync();
var bucket = await s3.CreateBucketAsync("bench");
var retail = bucket.Combine("datasets/retail.csv");
await s3.Store.PutBytesAsync(retail, RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 3000, Seed = 7 }));
var classification = bucket.Combine("datasets/classification.csv");
await s3.Store.PutBytesAsync(classification, Encoding.UTF8.GetBytes(ClassificationCsv(2000, 2)));
IReadOnlyList<ColumnDefinition> classificationSchema =
[
    new("x1", ColumnType.Number), new("x2", ColumnType.Number), new("color", ColumnType.String),
    new("positive", ColumnType.Boolean), new("band", ColumnType.String),
];
var regressionRow = """{"date": "2016-02-29", "store_nbr": 3, "item_nbr": 17, "family": "DAIRY", "city": "Quito", "onpromotion": true, "perishable": 1, "holiday": 0}""";
var classificationRow = """{"x1": 0.9, "x2": 0.5, "color": "blue"}""";
var tasks = new (string Name, TrainingSettings Settings, string Row)[]
{
    ("regression", RetailDatasetGenerator.TrainingPreset(retail, bucket.Combine("runs/regression/"), s3.Settings), regressionRow),
    ("binary", new TrainingSettings
    {
        DatasetUri = classification, OutputUri = bucket.Combine("runs/binary/"), Task = MlTask.BinaryClassification,
        Algorithm = AlgorithmCatalog.DefaultFor(MlTask.BinaryClassification), LabelColumn = "positive",
        FeatureColumns = ["x1", "x2", "color"], Schema = classificationSchema, S3 = s3.Settings,
    }, classificationRow),
    ("multiclass", new TrainingSettings
    {
        DatasetUri = classification, OutputUri = bucket.Combine("runs/multiclass/"), Task = MlTask.MulticlassClassification,
        Algorithm = AlgorithmCatalog.DefaultFor(MlTask.MulticlassClassification), LabelColumn = "band",
        FeatureColumns = ["x1", "x2", "color"], Schema = classificationSchema, S3 = s3.Settings,
    }, classificationRow),
};

var exitCode = 0;
foreach (var (name, training, row) in tasks.Where(t => onlyTasks is null || onlyTasks.Contains(t.Name)))
{
    var trained = await new ModelTrainer(s3.Store, TextWriter.Null).RunAsync(training);
    var settings = new ServeSettings
    {
        ModelUri = training.OutputUri.Combine(ModelManifest.ModelFileName),
        ModelSha256 = trained.ModelSha256,
        ModelName = name,
        ModelVersion = $"{name}-1",
        ListenHost = IPAddress.Loopback,
        Port = 0,
        S3 = s3.Settings,
    };
    await using var server = await ModelServer.StartAsync(settings);
    await WaitReadyAsync(server);
    var predict = Script($"{name}-predict", row);
    var batch = Script($"{name}-batch", $$"""{"instances": [{{string.Join(", ", Enumerable.Repeat(row, 100))}}]}""");
    var healthz = new Uri(server.Address, "/healthz");
    var predictUri = new Uri(server.Address, "/predict");

    // Warm-up (JIT, tiering, connection set-up), not measured.
    await RunAsync(healthz, null, 16, 1);
    await RunAsync(predictUri, predict, 16, 1);
    await RunAsync(predictUri, batch, 4, 1);

    // The server's own work per single-row request, without HTTP: read the JSON into the input layout, score.
    var scoring = server.Status.Model!;
    var rowBytes = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(row));
    var readAndScore = CpuMicroseconds(() => scoring.Score(PredictRequest.Read(rowBytes, scoring)), out var iterations);
    Console.WriteLine($"serving.{name}: in-process read+score of one row: {readAndScore:F1}us CPU ({iterations} rows; reported)");
    if (server.Status.Profile is { } profile)
    {
        // Drift counting on the request path, alone: bucket lookups and interlocked increments for one scored row.
        using var monitor = new DriftMonitor(profile, scoring.InputColumns, TimeSpan.FromMinutes(10), time: null, out _);
        var input = PredictRequest.Read(rowBytes, scoring);
        var scored = scoring.Score(input);
        var observe = CpuMicroseconds(() => monitor.Observe(input, scored), out var observed);
        Console.WriteLine($"serving.{name}.drift: counting one row ({monitor.Features.Count} features + the prediction): {observe * 1000:F0}ns CPU "
            + $"= {observe / readAndScore:P1} of read+score ({observed} rows); without a profile: 0 (not counted); PSI is computed per scrape, not per request (reported)");
    }

    var points = new Dictionary<string, List<WrkResult>>();
    void Add(string key, WrkResult result) => (points.TryGetValue(key, out var list) ? list : points[key] = []).Add(result);
    for (var round = 0; round < rounds; round++)
    {
        Add("healthz_c16", await RunAsync(healthz, null, 16, seconds));
        Add("healthz_c64", await RunAsync(healthz, null, 64, seconds));
        foreach (var c in concurrencies)
        {
            Add($"predict_c{c}", await RunAsync(predictUri, predict, c, seconds));
        }

        Add("batch100_c4", await RunAsync(predictUri, batch, 4, seconds));
    }

    double Rps(string key) => Median(points[key].Select(p => p.RequestsPerSecond));
    double P99(string key) => Median(points[key].Select(p => p.P99Milliseconds));
    var errors = points.Values.SelectMany(p => p).Sum(p => p.Errors);
    var ratio = Rps("predict_c16") / Rps("healthz_c16");
    var p99 = P99("predict_c64");
    var scaling = Rps("predict_c64") / Rps("predict_c1");
    var falls = concurrencies.Skip(1).Select((c, i) => (From: concurrencies[i], To: c))
        .Where(step => Rps($"predict_c{step.To}") < Rps($"predict_c{step.From}")).Select(step => $"c{step.From}->c{step.To}").ToList();
    Console.WriteLine(($"serving.{name}: predict_c16={Rps("predict_c16"):F0} healthz_c16={Rps("healthz_c16"):F0} ratio={ratio:F2} (target >= 0.5)"));
    Console.WriteLine(($"serving.{name}: p99_c64={p99:F2}ms (target <= 10ms; /healthz on the same server: p99_c64={P99("healthz_c64"):F2}ms)"));
    Console.WriteLine(($"serving.{name}: predict req/s " + string.Join(" ", concurrencies.Select(c => $"c{c}={Rps($"predict_c{c}"):F0}"))
        + $", p99 " + string.Join(" ", concurrencies.Select(c => $"c{c}={P99($"predict_c{c}"):F2}ms"))
        + $"; c64/c1 ratio={scaling:F2} (target >= 1: throughput does not fall 1->64; dips between steps: {(falls.Count == 0 ? "none" : string.Join(", ", falls))})"));
    Console.WriteLine(($"serving.{name}: batch100_c4 rows/s={Rps("batch100_c4") * 100:F0} (requests/s {Rps("batch100_c4"):F0}, p99 {P99("batch100_c4"):F2}ms; reported)"));
    Console.WriteLine(($"  rounds ({name}): " + string.Join(" ", points.Select(p => $"{p.Key}=[{string.Join(",", p.Value.Select(v => v.RequestsPerSecond.ToString("F0", CultureInfo.InvariantCulture)))}]"))));
    if (errors > 0)
    {
        Console.WriteLine($"serving.{name}: {errors} requests failed or answered non-2xx: the figures above are not valid");
    }

    if (errors > 0 || ratio < 0.5 || p99 > 10 || scaling < 1)
    {
        exitCode = 1;
    }

    if (name == "regression")
    {
        await MeasureLoggingCostAsync(settings, scoring, Encoding.UTF8.GetBytes(row));
    }

    if (name == "regression" && !await CompareLoggingAsync(settings, predictUri, predict))
    {
        exitCode = 1;
    }
}

Console.WriteLine($"serving.machine: load average {LoadAverage()} at the end");
work.Delete(recursive: true);
return exitCode;

// Prediction logging's cost: single-row /predict at c16 on a second server that logs every request to S3 (sample rate
// 1.0, flushed by size or every 60 s to the same s3rver), against the server without logging, taking turns per round.
// s3rver runs on the same cores, so its work storing the uploads counts against logging here (a real S3 is elsewhere).
// Where prediction logging's CPU goes, without HTTP: the request path's share (this thread: copy the body, remember
// the predictions, queue) and the rest of the process (the background loop's CSV and the S3 uploads, GC). Requests are
// queued in bursts the loop can keep up with, so none is dropped.
async Task MeasureLoggingCostAsync(ServeSettings plain, Cd4ml.Training.Scoring.ScoringModel model, byte[] body)
{
    const int requests = 50_000, burst = 2_000;
    var metrics = new ServingMetrics("bench", "bench-1", "stable", "");
    var log = new PredictionLog(plain with { LogSampleRate = 1, LogUri = bucket.Combine("logs-in-process/") }, metrics, new PredictionIds(),
        Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System);
    var predictions = model.Score(PredictRequest.Read(new ReadOnlySequence<byte>(body), model));
    var process = Process.GetCurrentProcess().TotalProcessorTime;
    var requestPath = TimeSpan.Zero;
    for (var sent = 0; sent < requests; sent += burst)
    {
        var thread = ThreadCpu.Now();
        for (var i = 0; i < burst; i++)
        {
            log.Log(model, body.AsSpan().ToArray(), predictions, sent + i + 1);
        }

        requestPath += ThreadCpu.Now() - thread;
        await Task.Delay(60);
    }

    await log.DisposeAsync();
    var total = Process.GetCurrentProcess().TotalProcessorTime - process;
    Console.WriteLine($"serving.logging: in-process CPU per logged request: request path {requestPath.TotalMicroseconds / requests:F2}us, "
        + $"background (CSV, upload, GC) {(total - requestPath).TotalMicroseconds / requests:F2}us ({requests} requests, "
        + $"{metrics.LogRows(PredictionLog.PredictionsKind).Value:F0} rows uploaded, {metrics.LogDropped(PredictionLog.PredictionsKind).Value:F0} dropped; reported)");
}

async Task<bool> CompareLoggingAsync(ServeSettings plain, Uri plainUri, string predictScript)
{
    await using var logging = await ModelServer.StartAsync(plain with { LogSampleRate = 1, LogUri = bucket.Combine("logs/") });
    await WaitReadyAsync(logging);
    var loggingUri = new Uri(logging.Address, "/predict");
    await RunAsync(loggingUri, predictScript, 16, 1);
    List<double> off = [], on = [], cpuOff = [], cpuOn = [];
    var collections = new int[2, 3];
    var failed = 0L;
    for (var round = 0; round < rounds; round++)
    {
        // Alternate who goes first, so a drift in the machine's load does not favour one side.
        foreach (var logged in round % 2 == 0 ? new[] { false, true } : [true, false])
        {
            // The server's CPU time per request (both servers live in this process; only one is under load) does not
            // depend on how much of the machine other processes take, unlike requests per second.
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var gcs = Enumerable.Range(0, 3).Select(GC.CollectionCount).ToArray();
            var result = await RunAsync(logged ? loggingUri : plainUri, predictScript, 16, seconds);
            (logged ? cpuOn : cpuOff).Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / (result.RequestsPerSecond * seconds));
            for (var generation = 0; generation < 3; generation++)
            {
                collections[logged ? 1 : 0, generation] += GC.CollectionCount(generation) - gcs[generation];
            }

            (logged ? on : off).Add(result.RequestsPerSecond);
            failed += result.Errors;
        }
    }

    var metrics = await new HttpClient().GetStringAsync(new Uri(logging.Address, "/metrics"));
    double Counter(string metric) => metrics.Split('\n').Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains("kind=\"predictions\"", StringComparison.Ordinal))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    var loggingRatio = Median(on) / Median(off);
    Console.WriteLine($"serving.logging: predict_c16 off={Median(off):F0} sample_rate_1.0={Median(on):F0} ratio={loggingRatio:F2} (target >= 0.95; "
        + $"rounds off=[{string.Join(",", off.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))}] on=[{string.Join(",", on.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))}]; "
        + $"rows uploaded so far {Counter("cd4ml_prediction_log_rows_total"):F0}, dropped {Counter("cd4ml_prediction_log_dropped_total"):F0})");
    var cpuRatio = Median(cpuOff) / Median(cpuOn);
    Console.WriteLine($"serving.logging: server CPU per /predict off={Median(cpuOff):F1}us sample_rate_1.0={Median(cpuOn):F1}us cpu_ratio={cpuRatio:F2} "
        + $"(the throughput ratio a CPU-bound server would see; target >= 0.95; GCs gen0/1/2 off={collections[0, 0]}/{collections[0, 1]}/{collections[0, 2]} "
        + $"on={collections[1, 0]}/{collections[1, 1]}/{collections[1, 2]})");
    if (failed > 0)
    {
        Console.WriteLine($"serving.logging: {failed} requests failed or answered non-2xx: the figures above are not valid");
    }

    return failed == 0 && loggingRatio >= 0.95;
}

async Task<WrkResult> RunAsync(Uri uri, string? script, int connections, int duration)
{
    var start = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var argument in new[] { "-t", Math.Min(2, connections).ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
        "-d", $"{duration}s", "--timeout", "5s", "--latency" })
    {
        start.ArgumentList.Add(argument);
    }

    if (script is not null)
    {
        start.ArgumentList.Add("-s");
        start.ArgumentList.Add(script);
    }

    start.ArgumentList.Add(uri.ToString());
    using var process = Process.Start(start)!;
    var output = await process.StandardOutput.ReadToEndAsync();
    var error = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"wrk failed ({process.ExitCode}): {error}{output}");
    }

    return WrkResult.Parse(output);
}

string Script(string name, string body)
{
    var path = Path.Combine(work.FullName, name + ".lua");
    File.WriteAllText(path, $"""
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        wrk.body = [==[{body}]==]
        """);
    return path;
}

static async Task WaitReadyAsync(ModelServer server)
{
    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
    while (!server.Status.IsReady)
    {
        if (server.Status.State == ServingState.Failed || DateTime.UtcNow > deadline)
        {
            throw new InvalidOperationException($"the server did not become ready: {server.Status.Reason}");
        }

        await Task.Delay(50);
    }
}

// This thread's CPU time per call rather than wall time: on a busy machine the thread gets a fraction of a core, and
// other threads of the process (the servers, tiered JIT) do not count. Warms up first.
static double CpuMicroseconds(Action action, out int iterations)
{
    for (var warm = Stopwatch.StartNew(); warm.ElapsedMilliseconds < 300;)
    {
        action();
    }

    var cpu = ThreadCpu.Now();
    var watch = Stopwatch.StartNew();
    for (iterations = 0; watch.ElapsedMilliseconds < 1000; iterations++)
    {
        action();
    }

    return (ThreadCpu.Now() - cpu).TotalMicroseconds / iterations;
}

static string FindWrk()
{
    foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
    {
        var path = Path.Combine(directory, "wrk");
        if (File.Exists(path))
        {
            return path;
        }
    }

    throw new InvalidOperationException("wrk is not installed: apt-get install wrk (tests/env/setup.sh installs it).");
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static string ClassificationCsv(int rows, int seed)
{
    var random = new Random(seed);
    var csv = new StringBuilder("x1,x2,color,positive,band\n");
    string[] colors = ["red", "green", "blue"];
    for (var i = 0; i < rows; i++)
    {
        var x1 = random.NextDouble();
        var x2 = random.NextDouble();
        var positive = (x1 + x2 > 1) ^ (random.NextDouble() < 0.05);
        var band = x1 < 0.33 ? "low" : x1 < 0.66 ? "mid" : "high";
        csv.Append(CultureInfo.InvariantCulture, $"{x1:F4},{x2:F4},{colors[random.Next(3)]},{(positive ? "true" : "false")},{band}\n");
    }

    return csv.ToString();
}

/// <summary>The calling thread's CPU time (Linux: clock_gettime(CLOCK_THREAD_CPUTIME_ID)).</summary>
internal static class ThreadCpu
{
    private const int ThreadCpuTimeClock = 3;

    public static TimeSpan Now() => ClockGetTime(ThreadCpuTimeClock, out var time) == 0
        ? TimeSpan.FromTicks(time.Seconds * TimeSpan.TicksPerSecond + time.Nanoseconds / 100)
        : throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

/// <summary>What one wrk run measured: requests/s, the 99th percentile latency, and failed or non-2xx requests.</summary>
internal sealed partial record WrkResult(double RequestsPerSecond, double P99Milliseconds, long Errors)
{
    public static WrkResult Parse(string output)
    {
        var rps = double.Parse(RequestsPerSecondPattern().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var p99 = P99Pattern().Match(output) is { Success: true } match
            ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * match.Groups[2].Value switch
            {
                "us" => 0.001,
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                _ => double.NaN,
            }
            : double.NaN;
        var errors = NonSuccess().Match(output) is { Success: true } non ? long.Parse(non.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        foreach (Match socket in SocketErrors().Matches(output))
        {
            errors += long.Parse(socket.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        return new WrkResult(rps, p99, errors);
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecondPattern();

    [GeneratedRegex(@"^\s+99%\s+([0-9.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex P99Pattern();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccess();

    [GeneratedRegex(@"(?:connect|read|write|timeout) (\d+)")]
    private static partial Regex SocketErrors();
}
