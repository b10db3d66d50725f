using System.CommandLine;
using Cd4ml.Artifacts;
using Cd4ml.Serving;

namespace Cd4ml.Cli;

/// <summary>
/// `cd4ml serve`: runs the model server with the serving contract read from the environment (what a model server pod
/// gets); options override single variables. Exit codes: 0 after SIGTERM; 1 when the address cannot be bound;
/// 2 for invalid settings.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var overrides = new (Option<string> Option, string Variable)[]
        {
            (new Option<string>("--model-uri") { Description = "The model object, s3://bucket/prefix/model.zip" }, ServeSettings.ModelUriVariable),
            (new Option<string>("--model-sha256") { Description = "SHA-256 the model.zip must have" }, ServeSettings.ModelSha256Variable),
            (new Option<string>("--model-name") { Description = "Model name (metric label)" }, ServeSettings.ModelNameVariable),
            (new Option<string>("--model-version") { Description = "ModelVersion name, e.g. sales-3 (metric label)" }, ServeSettings.ModelVersionVariable),
            (new Option<string>("--track") { Description = "stable or canary (metric label)" }, ServeSettings.TrackVariable),
            (new Option<string>("--host") { Description = "IP address to listen on (default 0.0.0.0)" }, ServeSettings.ListenHostVariable),
            (new Option<string>("--port") { Description = "Port to listen on (default 8080)" }, ServeSettings.PortVariable),
            (new Option<string>("--skew-tolerance") { Description = "Largest relative holdout metric difference (default 0.05)" }, ServeSettings.SkewToleranceVariable),
            (new Option<string>("--s3-endpoint") { Description = "S3-compatible endpoint URL" }, S3Settings.EndpointVariable),
        };
        var command = new Command("serve", "Serve a trained model as described by the CD4ML_* environment variables (the serving contract)");
        foreach (var (option, _) in overrides)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            var environment = TrainCommand.CurrentEnvironment();
            foreach (var (option, variable) in overrides)
            {
                if (parse.GetValue(option) is { Length: > 0 } value)
                {
                    environment[variable] = value;
                }
            }

            ServeSettings settings;
            try
            {
                settings = ServeSettings.FromEnvironment(environment);
            }
            catch (ServeSettingsException e)
            {
                await Console.Error.WriteLineAsync($"Invalid serving settings: {e.Message}");
                return 2;
            }

            return await Cd4ml.Serving.ServeCommand.RunAsync(settings, ct);
        });
        return command;
    }
}
