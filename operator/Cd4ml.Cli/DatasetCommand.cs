using System.CommandLine;
using Cd4ml.Training;

namespace Cd4ml.Cli;

/// <summary>`cd4ml dataset generate`: the synthetic retail dataset, to a file or to S3 (S3 settings from the environment).</summary>
internal static class DatasetCommand
{
    public static Command Create()
    {
        var rows = new Option<int>("--rows") { Description = "Number of rows", DefaultValueFactory = _ => 5000 };
        var seed = new Option<int>("--seed") { Description = "Random seed; the same seed gives the same bytes", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--out", "-o") { Description = "A file path or s3://bucket/key.csv", Required = true };
        var drifted = new Option<int?>("--drifted-store") { Description = "A store whose sales are erratic (for slice metrics)" };
        var generate = new Command("generate", "Write the synthetic retail sales dataset") { rows, seed, output, drifted };
        generate.SetAction(async (parse, ct) =>
        {
            var count = parse.GetValue(rows);
            if (count < 1)
            {
                Console.Error.WriteLine("--rows must be at least 1.");
                return 2;
            }

            try
            {
                return await DatasetGenerateCommand.RunAsync(count, parse.GetValue(seed), parse.GetValue(output)!,
                    parse.GetValue(drifted), TrainCommand.CurrentEnvironment(), Console.Out, ct);
            }
            catch (Exception e) when (e is FormatException or Cd4ml.Artifacts.ArtifactStoreException or IOException)
            {
                Console.Error.WriteLine($"dataset generate failed: {e.Message}");
                return 1;
            }
        });
        return new Command("dataset", "Datasets for trying cd4ml out") { generate };
    }
}
