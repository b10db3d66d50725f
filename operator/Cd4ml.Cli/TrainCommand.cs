using System.Collections;
using System.CommandLine;
using Cd4ml.Artifacts;
using Cd4ml.Training;

namespace Cd4ml.Cli;

/// <summary>
/// `cd4ml train`: runs the trainer with the training contract read from the environment (what a training Job sets);
/// options override single variables, which is handy outside Kubernetes.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var overrides = new (Option<string> Option, string Variable)[]
        {
            (new Option<string>("--dataset") { Description = "Dataset CSV, s3://bucket/key.csv" }, TrainingSettings.DatasetUriVariable),
            (new Option<string>("--output") { Description = "Output prefix, s3://bucket/prefix/" }, TrainingSettings.OutputUriVariable),
            (new Option<string>("--label") { Description = "Label column" }, TrainingSettings.LabelColumnVariable),
            (new Option<string>("--task") { Description = "Regression, BinaryClassification or MulticlassClassification" }, TrainingSettings.TaskVariable),
            (new Option<string>("--algorithm") { Description = "LightGbm (default), FastTree, Sdca or LogisticRegression" }, TrainingSettings.AlgorithmVariable),
            (new Option<string>("--termination-log") { Description = "Where the result JSON goes (default /dev/termination-log)" }, TrainingSettings.TerminationLogVariable),
            (new Option<string>("--s3-endpoint") { Description = "S3-compatible endpoint URL" }, S3Settings.EndpointVariable),
        };
        var command = new Command("train", "Train a model as described by the CD4ML_* environment variables (the training contract)");
        foreach (var (option, _) in overrides)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            var environment = CurrentEnvironment();
            foreach (var (option, variable) in overrides)
            {
                if (parse.GetValue(option) is { Length: > 0 } value)
                {
                    environment[variable] = value;
                }
            }

            return await Cd4ml.Training.TrainCommand.RunAsync(environment, Console.Out, ct);
        });
        return command;
    }

    public static Dictionary<string, string?> CurrentEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => e.Value as string);
}
