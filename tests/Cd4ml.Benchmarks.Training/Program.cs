using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cd4ml.Artifacts;
using Cd4ml.Testing;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;

// Our trainer with its defaults vs scikit-learn's HistGradientBoostingRegressor/Classifier with its defaults
// (anchor.py), on the datasets scikit-learn ships in its package (datasets.py; no download) and the synthetic retail set
// at 100k and 1M rows, each split the same way on both sides. Per dataset:
// - error ratio: ours / sklearn on the validation rows; rmse for regression, log-loss for classification (the loss both
//   minimise; accuracy on 36-360 validation rows moves in steps of a whole row, so it is printed but not the target);
// - time ratio: medians of alternating rounds (the machine is shared and noisy); ours = ModelTrainer.RunAsync in this
//   (warmed-up) process: read from a local s3rver, parse, validate, split, fit, score, evaluate, write the artifacts;
//   sklearn = read_csv, featurize, fit, predict, errors;
// - peak-RSS ratio: ours = a `cd4ml train`-like child process (TrainCommand with the run's environment) on that dataset
//   alone, its VmHWM; sklearn = ru_maxrss of its process (imports included on both sides: runtime + ML.NET vs Python +
//   pandas + scikit-learn).
// Both sides train on one thread: ours always does (AlgorithmCatalog), and scikit-learn gets OMP_NUM_THREADS=1 unless
// the environment sets it. On a loaded machine its OpenMP threads spin: HistGradientBoosting on diabetes took 36-60 s
// with 2 threads and 1.0 s with one (load average 40 on 2 cores), with the same model.
// Usage: [rounds] [dataset ...] (default 3 rounds, 1 for the 1M-row set; default every dataset). `--child` is the
// child process's mode.
if (args is ["--child"])
{
    return await ChildAsync();
}

// Every number printed here is invariant (the interpolations below concatenate).
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
var only = args.Skip(1).ToHashSet();
// Debian's python3-sklearn belongs to the system interpreter, which a pyenv/venv python3 on PATH would hide.
var python = Environment.GetEnvironmentVariable("CD4ML_PYTHON") ?? (File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
var work = Directory.CreateTempSubdirectory("cd4ml-bench-training-");
await using var s3 = await S3Server.StartAsync();
var bucket = await s3.CreateBucketAsync("bench");

var cases = new List<BenchCase>();
foreach (var line in RunPython("datasets.py", work.FullName).Split('\n', StringSplitOptions.RemoveEmptyEntries))
{
    var json = JsonDocument.Parse(line).RootElement;
    var name = json.GetProperty("name").GetString()!;
    var task = Enum.Parse<MlTask>(json.GetProperty("task").GetString()!);
    var label = json.GetProperty("label").GetString()!;
    var file = json.GetProperty("file").GetString()!;
    var content = await File.ReadAllBytesAsync(file);
    var dataset = bucket.Combine($"{name}.csv");
    await s3.Store.PutBytesAsync(dataset, content);
    var settings = new TrainingSettings
    {
        DatasetUri = dataset,
        OutputUri = bucket.Combine($"runs/{name}/"),
        Task = task,
        Algorithm = AlgorithmCatalog.DefaultFor(task),
        LabelColumn = label,
        S3 = s3.Settings,
    };
    // The same validation rows on both sides: the ones our split chooses.
    var validation = DatasetSplitter.Split(CsvTable.Parse(content), settings.Split).Validation;
    var positions = Path.Combine(work.FullName, $"{name}.validation.txt");
    await File.WriteAllLinesAsync(positions, validation.Select(p => p.ToString(CultureInfo.InvariantCulture)));
    cases.Add(new BenchCase(name, settings, [file, task.ToString(), label, positions], content.Length, rounds));
}

foreach (var rows in new[] { 100_000, 1_000_000 })
{
    var name = rows == 100_000 ? "retail_100k" : "retail_1m";
    var content = RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = rows, Seed = 7 });
    var file = Path.Combine(work.FullName, $"{name}.csv");
    await File.WriteAllBytesAsync(file, content);
    var dataset = bucket.Combine($"{name}.csv");
    await s3.Store.PutBytesAsync(dataset, content);
    cases.Add(new BenchCase(name, RetailDatasetGenerator.TrainingPreset(dataset, bucket.Combine($"runs/{name}/"), s3.Settings),
        [file, "Retail"], content.Length, rows >= 1_000_000 ? 1 : rounds));
}

cases.RemoveAll(c => only.Count > 0 && !only.Contains(c.Name));

Console.WriteLine("training.datasets: " + string.Join(", ", cases.Select(c => $"{c.Name} ({c.Settings.Task}, {c.Bytes / 1024} KiB)")));
Console.WriteLine($"training.defaults: {AlgorithmCatalog.DefaultFor(MlTask.Regression)} " +
    string.Join(" ", AlgorithmCatalog.Resolve(TrainingAlgorithm.LightGbm, new Dictionary<string, string>(), 100_000).Select(p => $"{p.Key}={p.Value}")) +
    $" ({AlgorithmCatalog.EarlyStoppingRounds} is 0 up to {AlgorithmCatalog.EarlyStoppingMinimumRows} training rows)");

// Warm-up: JIT and native library loading are not what the time ratio compares (the 1M set runs the 100k set's code).
foreach (var bench in cases.Where(c => c.Bytes < 10_000_000))
{
    await OursAsync(bench);
}

var results = new List<(BenchCase Case, double ErrorRatio, double TimeRatio, double RssRatio)>();
var exitCode = 0;
foreach (var bench in cases)
{
    var sklearnRuns = new List<JsonElement>();
    var ourRuns = new List<(TrainingResult Result, double Seconds)>();
    for (var round = 0; round < bench.Rounds; round++)
    {
        sklearnRuns.Add(JsonDocument.Parse(RunPython("anchor.py", bench.AnchorArguments)).RootElement);
        ourRuns.Add(await OursAsync(bench));
    }

    var child = await ChildRunAsync(bench);
    var ours = ourRuns[0].Result;
    var sklearn = sklearnRuns[0];
    var metric = bench.Settings.Task == MlTask.Regression ? "rmse" : "logLoss";
    if (sklearn.GetProperty("trainRows").GetInt32() != (int)ours.Metrics["trainRows"]
        || ourRuns.Any(r => r.Result.ModelSha256 != ours.ModelSha256) || child.ModelSha256 != ours.ModelSha256)
    {
        Console.WriteLine($"training.{bench.Name}: the comparison is off: ours trains on {ours.Metrics["trainRows"]} rows, sklearn on " +
            $"{sklearn.GetProperty("trainRows").GetInt32()}, or our runs gave different models");
        exitCode = 1;
    }

    var errorRatio = ours.Metrics[metric] / sklearn.GetProperty(metric).GetDouble();
    var ourSeconds = Median(ourRuns.Select(r => r.Seconds));
    var sklearnSeconds = Median(sklearnRuns.Select(r => r.GetProperty("seconds").GetDouble()));
    var sklearnRssKb = Median(sklearnRuns.Select(r => r.GetProperty("maxRssKb").GetDouble()));
    var timeRatio = ourSeconds / sklearnSeconds;
    var rssRatio = child.PeakRssKb / sklearnRssKb;
    results.Add((bench, errorRatio, timeRatio, rssRatio));
    var accuracy = bench.Settings.Task == MlTask.Regression ? ""
        : FormattableString.Invariant($"; accuracy ours={ours.Metrics["accuracy"]:F4} sklearn={sklearn.GetProperty("accuracy").GetDouble():F4}");
    var scale = bench.Name == "retail_1m" ? "time and RSS <= 1 at 1M rows" : "time and RSS reported";
    Console.WriteLine(string.Concat(
        $"training.{bench.Name}: error_ratio={errorRatio:F3} time_ratio={timeRatio:F3} rss_ratio={rssRatio:F3} (targets error <= 1.1, {scale}) ",
        $"[{metric} ours={ours.Metrics[metric]:F4} sklearn={sklearn.GetProperty(metric).GetDouble():F4}{accuracy}; ",
        $"time ours={ourSeconds:F2}s ({Times(ourRuns.Select(r => r.Seconds))}) sklearn={sklearnSeconds:F2}s ",
        $"({Times(sklearnRuns.Select(r => r.GetProperty("seconds").GetDouble()))}), {bench.Rounds} alternating rounds, child process {child.Seconds:F2}s; ",
        $"peak RSS ours={child.PeakRssKb / 1024:F0} MB sklearn={sklearnRssKb / 1024:F0} MB; ",
        $"trees={ours.Manifest.Hyperparameters.GetValueOrDefault("numberOfTrees")} earlyStopping={ours.Manifest.Hyperparameters.GetValueOrDefault(AlgorithmCatalog.EarlyStoppingRounds)}]"));
    var sections = ourRuns[^1].Result.Sections;
    Console.WriteLine($"training.{bench.Name}.sections: " + string.Join(" ", sections.Select(s =>
        FormattableString.Invariant($"{s.Name}={s.Elapsed.TotalSeconds:F2}s"))));
}

var median = Median(results.Select(r => r.ErrorRatio));
var worst = results.MaxBy(r => r.ErrorRatio);
var scaled = results.Where(r => r.Case.Name == "retail_1m").Select(r =>
    $"; retail_1m time_ratio={r.TimeRatio:F3} rss_ratio={r.RssRatio:F3} (targets <= 1)").SingleOrDefault();
Console.WriteLine($"training.summary: error_ratio median={median:F3} (target <= 1.0) worst={worst.ErrorRatio:F3} on {worst.Case.Name} (target <= 1.1){scaled}");
work.Delete(recursive: true);
return exitCode;

async Task<(TrainingResult Result, double Seconds)> OursAsync(BenchCase bench)
{
    var watch = Stopwatch.StartNew();
    var result = await new ModelTrainer(s3.Store, TextWriter.Null).RunAsync(bench.Settings);
    return (result, watch.Elapsed.TotalSeconds);
}

// The run in a fresh process, as `cd4ml train` runs it in a Pod: its peak RSS is the run's own.
async Task<(double Seconds, double PeakRssKb, string ModelSha256)> ChildRunAsync(BenchCase bench)
{
    var terminationLog = Path.Combine(work.FullName, $"{bench.Name}.termination.json");
    var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
    {
        start.ArgumentList.Add(typeof(BenchCase).Assembly.Location);
    }

    start.ArgumentList.Add("--child");
    foreach (var (name, value) in bench.Settings.ToEnvironment())
    {
        start.Environment[name] = value;
    }

    start.Environment[TrainingSettings.TerminationLogVariable] = terminationLog;
    var output = Run(start);
    var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
    var message = JsonDocument.Parse(await File.ReadAllTextAsync(terminationLog)).RootElement;
    if (json.GetProperty("exitCode").GetInt32() != 0)
    {
        throw new InvalidOperationException($"The child run on {bench.Name} failed: {message}");
    }

    return (json.GetProperty("seconds").GetDouble(), json.GetProperty("peakRssKb").GetDouble(), message.GetProperty("modelSha256").GetString()!);
}

string RunPython(string script, params IEnumerable<string> arguments)
{
    var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
    start.Environment["OMP_NUM_THREADS"] = Environment.GetEnvironmentVariable("OMP_NUM_THREADS") ?? "1";
    start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, script));
    foreach (var argument in arguments)
    {
        start.ArgumentList.Add(argument);
    }

    return Run(start);
}

static string Run(ProcessStartInfo start)
{
    using var process = Process.Start(start)!;
    var error = process.StandardError.ReadToEndAsync();
    var output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"{start.FileName} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {error.Result}");
    }

    return output;
}

static async Task<int> ChildAsync()
{
    var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
        .ToDictionary(e => (string)e.Key, e => (string?)e.Value);
    var watch = Stopwatch.StartNew();
    var exitCode = await TrainCommand.RunAsync(environment, TextWriter.Null, CancellationToken.None);
    var seconds = watch.Elapsed.TotalSeconds;
    var peakKb = File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
        .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).Single();
    Console.WriteLine(JsonSerializer.Serialize(new { exitCode, seconds, peakRssKb = peakKb }));
    return 0;
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static string Times(IEnumerable<double> seconds) => string.Join("/", seconds.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)));

/// <summary>One dataset of the suite: our settings, anchor.py's arguments, its size, and how many rounds to time.</summary>
internal sealed record BenchCase(string Name, TrainingSettings Settings, string[] AnchorArguments, long Bytes, int Rounds);
