using System.CommandLine;
using Cd4ml.Artifacts;
using Cd4ml.Serving.Load;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;

namespace Cd4ml.Cli;

/// <summary>
/// `cd4ml load`: steady traffic to a model Service's /predict with rows of a dataset (a CSV file, an s3:// URI with S3
/// settings from the environment, or the generated retail data), optionally /feedback with each row's true label.
/// One summary line per interval; SIGTERM or Ctrl-C stops it with a total line and exit 0. Exit 2: invalid options.
/// </summary>
internal static class LoadCommand
{
    public const string Generated = "generated";

    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Model server base URL, e.g. http://sales-api (the Service); /predict and /feedback are appended", Required = true };
        var dataset = new Option<string>("--dataset")
        {
            Description = $"Rows to send: a CSV file, s3://bucket/key.csv, or '{Generated}' (the synthetic retail data)",
            DefaultValueFactory = _ => Generated,
        };
        var label = new Option<string?>("--label") { Description = $"The dataset's label column, left out of requests and sent as feedback (default for '{Generated}': {RetailDatasetGenerator.LabelColumn})" };
        var rate = new Option<double>("--rate") { Description = "Requests per second in all; 0 for as fast as the workers go", DefaultValueFactory = _ => 20 };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Concurrent workers, each with its own connection", DefaultValueFactory = _ => 4 };
        var feedback = new Option<bool>("--feedback") { Description = "POST /feedback with the true label after each prediction (for live quality)" };
        var interval = new Option<string>("--report-interval") { Description = "How often to print a summary line, e.g. 10s", DefaultValueFactory = _ => "10s" };
        var rows = new Option<int>("--rows") { Description = $"Rows to generate with '{Generated}'", DefaultValueFactory = _ => 2000 };
        var command = new Command("load", "Send steady traffic to a model server (/predict, optionally /feedback) and print a summary per interval")
        {
            url, dataset, label, rate, concurrency, feedback, interval, rows,
        };
        command.SetAction(async (parse, ct) =>
        {
            var problems = new List<string>();
            var baseUrl = parse.GetValue(url)!;
            if (!Uri.TryCreate(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/", UriKind.Absolute, out var target)
                || target.Scheme is not ("http" or "https"))
            {
                problems.Add($"--url must be an http(s) URL, got '{baseUrl}'");
            }

            if (!Cd4ml.Serving.FaultSettings.TryParseDuration(parse.GetValue(interval)!, out var every) || every < TimeSpan.FromSeconds(1))
            {
                problems.Add($"--report-interval must be a duration of at least 1s such as 10s, got '{parse.GetValue(interval)}'");
            }

            if (parse.GetValue(rate) < 0 || parse.GetValue(concurrency) is < 1 or > 1000)
            {
                problems.Add("--rate must be 0 or more and --concurrency 1 to 1000");
            }

            if (problems.Count > 0)
            {
                await Console.Error.WriteLineAsync("load: " + string.Join("; ", problems));
                return 2;
            }

            IReadOnlyList<LoadRow> requests;
            var source = parse.GetValue(dataset)!;
            try
            {
                requests = await ReadRowsAsync(source, parse.GetValue(label), parse.GetValue(rows), ct);
            }
            catch (Exception e) when (e is FormatException or ArtifactStoreException or IOException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"load: cannot read the dataset {source}: {e.Message}");
                return source == Generated ? 2 : 1;
            }

            var settings = new LoadSettings(parse.GetValue(rate), parse.GetValue(concurrency), parse.GetValue(feedback));
            var generator = new LoadGenerator(() => target!, requests, settings, TimeProvider.System);
            Console.WriteLine($"load: {target} with {requests.Count} rows of {source}, {(settings.Rate > 0 ? $"{settings.Rate} req/s" : "unpaced")}, "
                              + $"{settings.Concurrency} workers{(settings.Feedback ? ", feedback on" : "")}");
            await generator.RunAsync(every, report => Console.WriteLine($"load: {report.Describe()}"), ct);
            Console.WriteLine($"load: stopped; in all {generator.Totals.Requests} requests: {generator.Totals.Describe()}");
            return 0;
        });
        return command;
    }

    private static async Task<IReadOnlyList<LoadRow>> ReadRowsAsync(string source, string? label, int rows, CancellationToken ct)
    {
        if (source == Generated)
        {
            var csv = RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = rows, Seed = 99 });
            return LoadRows.From(CsvTable.Parse(csv), label ?? RetailDatasetGenerator.LabelColumn);
        }

        byte[] content;
        if (source.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            using var client = S3Settings.FromEnvironment(TrainCommand.CurrentEnvironment()).CreateClient();
            content = await new ArtifactStore(client).GetBytesAsync(S3Location.Parse(source), ct);
        }
        else
        {
            content = await File.ReadAllBytesAsync(source, ct);
        }

        return LoadRows.From(CsvTable.Parse(content), label);
    }
}
