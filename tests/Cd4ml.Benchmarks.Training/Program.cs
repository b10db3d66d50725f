using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cd4ml.Testing;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;

// Our trainer (FastTree and LightGbm) vs scikit-learn's DecisionTreeRegressor, on the same generated retail data,
// split the same way (latest 20% of dates validate), in one run. Wall times cover reading, featurizing, training
// and evaluating; ours also does the rest of a real run (slice and holdout metrics, artifacts written to a local
// s3rver), shown section by section. Usage: [rows] (default 100000).
var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
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

Console.WriteLine("training.timed: ours = the whole ModelTrainer.RunAsync: read (S3 GET, sha256), parse (CSV), validate (filters, " +
    "schema, labels), split (by date), columns (typed input columns), fit (impute, one-hot, train), score (validation set), " +
    "evaluate (overall, holdout and slice metrics), serialize (model.zip, holdout.csv, metrics.json), upload (S3 PUTs, sha256, manifest)");
Console.WriteLine("training.timed: sklearn = read_csv, returns filter, date split, featurize (date parts, one-hot), fit, predict, errors");

var sklearn = Sklearn();
Console.WriteLine(FormattableString.Invariant($"training.sklearn: DecisionTreeRegressor rmse={sklearn.Rmse:F4} mae={sklearn.Mae:F4} time={sklearn.Seconds:F2}s trainRows={sklearn.TrainRows}"));
var exitCode = 0;
foreach (var algorithm in new[] { TrainingAlgorithm.FastTree, TrainingAlgorithm.LightGbm })
{
    var ours = await OursAsync(algorithm);
    if (ours.TrainRows != sklearn.TrainRows)
    {
        Console.WriteLine($"training.split: ours trains on {ours.TrainRows} rows, sklearn on {sklearn.TrainRows}: the comparison is off");
        exitCode = 1;
    }

    Console.WriteLine(FormattableString.Invariant(
        $"training.rmse[{algorithm}]: ours={ours.Rmse:F4} sklearn={sklearn.Rmse:F4} ratio={ours.Rmse / sklearn.Rmse:F3} (target < 1)"));
    Console.WriteLine(FormattableString.Invariant(
        $"training.mae[{algorithm}]: ours={ours.Mae:F4} sklearn={sklearn.Mae:F4} ratio={ours.Mae / sklearn.Mae:F3} (target < 1)"));
    Console.WriteLine(FormattableString.Invariant(
        $"training.time[{algorithm}]: ours={ours.Seconds:F2}s sklearn={sklearn.Seconds:F2}s ratio={ours.Seconds / sklearn.Seconds:F3} (target <= 1)"));
    Console.WriteLine($"training.sections[{algorithm}]: " +
        string.Join(" ", ours.Sections.Select(s => FormattableString.Invariant($"{s.Name}={s.Elapsed.TotalSeconds:F2}s"))));
}

work.Delete(recursive: true);
return exitCode;
