using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cd4ml.Testing;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;

// Our trainer (LightGbm, the default, and FastTree) vs scikit-learn's DecisionTreeRegressor, on the same generated retail data,
// split the same way (latest 20% of dates validate), in one run. Wall times cover reading, featurizing, training
// and evaluating; ours also does the rest of a real run (slice and holdout metrics, artifacts written to a local
// s3rver), shown section by section. The machine is noisy, so the sides take turns for several rounds and the ratio
// compares median times. Usage: [rows] [rounds] (default 100000 rows, 5 rounds).
var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
// Debian's python3-sklearn belongs to the system interpreter, which a pyenv/venv python3 on PATH would hide.
var python = Environment.GetEnvironmentVariable("CD4ML_PYTHON") ?? (File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
var work = Directory.CreateTempSubdirectory("cd4ml-bench-training-");
var csvPath = Path.Combine(work.FullName, "retail.csv");
var content = RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = rows, Seed = 7 });
await File.WriteAllBytesAsync(csvPath, content);
Console.WriteLine($"training.dataset: {rows} rows, {content.Length / 1024} KiB");

await using var s3 = await S3Server.StartAsync();
var bucket = await s3.CreateBucketAsync("bench");
var dataset = bucket.Combine("retail.csv");
await s3.Store.PutBytesAsync(dataset, content);

async Task<(double Rmse, double Mae, double Seconds, int TrainRows, IReadOnlyList<TrainingSection> Sections)> OursAsync(TrainingAlgorithm algorithm)
{
    var settings = RetailDatasetGenerator.TrainingPreset(dataset, bucket.Combine($"runs/{algorithm}/"), s3.Settings) with { Algorithm = algorithm };
    var watch = Stopwatch.StartNew();
    var result = await new ModelTrainer(s3.Store, TextWriter.Null).RunAsync(settings);
    return (result.Metrics["rmse"], result.Metrics["mae"], watch.Elapsed.TotalSeconds, (int)result.Metrics["trainRows"], result.Sections);
}

(double Rmse, double Mae, double Seconds, int TrainRows) Sklearn()
{
    var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
    start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sklearn_tree.py"));
    start.ArgumentList.Add(csvPath);
    using var process = Process.Start(start)!;
    var output = process.StandardOutput.ReadToEnd();
    var error = process.StandardError.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"sklearn_tree.py failed ({process.ExitCode}): {error}");
    }

    var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
    return (json.GetProperty("rmse").GetDouble(), json.GetProperty("mae").GetDouble(), json.GetProperty("seconds").GetDouble(),
        json.GetProperty("trainRows").GetInt32());
}

// Warm-up: JIT and native library loading are not what we compare.
await OursAsync(TrainingAlgorithm.FastTree);
await OursAsync(TrainingAlgorithm.LightGbm);

Console.WriteLine("training.timed: ours = the whole ModelTrainer.RunAsync: read (S3 GET), parse (CSV, sha256 alongside), validate (filters, " +
    "schema, labels; columns parsed in parallel), split (by date), columns (typed input columns), fit (featurizer, feature vectors, train), score (validation set), " +
    "evaluate (overall, holdout and slice metrics), serialize (model.zip, holdout.csv, metrics.json), upload (parallel S3 PUTs, sha256, then manifest)");
Console.WriteLine("training.timed: sklearn = read_csv, returns filter, date split, featurize (date parts, one-hot), fit, predict, errors");

TrainingAlgorithm[] algorithms = [TrainingAlgorithm.LightGbm, TrainingAlgorithm.FastTree];
var sklearnRuns = new List<(double Rmse, double Mae, double Seconds, int TrainRows)>();
var ourRuns = algorithms.ToDictionary(a => a, _ => new List<(double Rmse, double Mae, double Seconds, int TrainRows, IReadOnlyList<TrainingSection> Sections)>());
for (var round = 0; round < rounds; round++)
{
    sklearnRuns.Add(Sklearn());
    foreach (var algorithm in algorithms)
    {
        ourRuns[algorithm].Add(await OursAsync(algorithm));
    }
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

string Times(IEnumerable<double> seconds) => string.Join("/", seconds.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)));

var sklearn = sklearnRuns[0];
var sklearnSeconds = Median(sklearnRuns.Select(r => r.Seconds));
Console.WriteLine(FormattableString.Invariant(
    $"training.sklearn: DecisionTreeRegressor rmse={sklearn.Rmse:F4} mae={sklearn.Mae:F4} median time={sklearnSeconds:F2}s (runs {Times(sklearnRuns.Select(r => r.Seconds))}) trainRows={sklearn.TrainRows}"));
Console.WriteLine($"training.default: {AlgorithmCatalog.DefaultFor(MlTask.Regression)} (what a run that names no algorithm trains)");
var exitCode = 0;
foreach (var algorithm in algorithms)
{
    var runs = ourRuns[algorithm];
    var ours = runs[0];
    if (runs.Any(r => r.TrainRows != sklearn.TrainRows) || runs.Any(r => r.Rmse != ours.Rmse))
    {
        Console.WriteLine($"training.split: ours trains on {ours.TrainRows} rows (or differs between rounds), sklearn on {sklearn.TrainRows}: the comparison is off");
        exitCode = 1;
    }

    var seconds = Median(runs.Select(r => r.Seconds));
    Console.WriteLine(FormattableString.Invariant(
        $"training.rmse[{algorithm}]: ours={ours.Rmse:F4} sklearn={sklearn.Rmse:F4} ratio={ours.Rmse / sklearn.Rmse:F3} (target < 1)"));
    Console.WriteLine(FormattableString.Invariant(
        $"training.mae[{algorithm}]: ours={ours.Mae:F4} sklearn={sklearn.Mae:F4} ratio={ours.Mae / sklearn.Mae:F3} (target < 1)"));
    Console.WriteLine(FormattableString.Invariant(
        $"training.time[{algorithm}]: ours={seconds:F2}s sklearn={sklearnSeconds:F2}s ratio={seconds / sklearnSeconds:F3} (medians of {rounds} alternating rounds; ours {Times(runs.Select(r => r.Seconds))}; target <= 1)"));
    var names = ours.Sections.Select(s => s.Name).ToList();
    Console.WriteLine($"training.sections[{algorithm}]: median " + string.Join(" ", names.Select(name =>
        FormattableString.Invariant($"{name}={Median(runs.Select(r => r.Sections.Single(s => s.Name == name).Elapsed.TotalSeconds)):F2}s"))));
}

work.Delete(recursive: true);
return exitCode;
