using System.CommandLine;
using System.Globalization;
using Cd4ml.Api.V1Alpha1;

namespace Cd4ml.Kubectl;

/// <summary>
/// promote, abort, retry (a Deployment's steering annotations) and approve (a ModelVersion's spec.approved): each one
/// merge patch. The annotation value is the current time, so every request is new and the operator acts on it once.
/// </summary>
internal static class SteerCommands
{
    public static IEnumerable<Command> Create(ConnectionOptions options, Func<PluginConsole> console)
    {
        var full = new Option<bool>("--full")
        {
            Description = "Promote the canary to stable at once, skipping all remaining steps and analysis (cd4ml.io/promote-full)",
        };
        yield return Annotate("promote", "Skip the canary's current step (cd4ml.io/promote)", ModelDeployment.PromoteAnnotation,
            "the operator skips the current canary step", options, console, full);
        yield return Annotate("abort", "Roll the canary back to stable (cd4ml.io/abort)", ModelDeployment.AbortAnnotation,
            "the operator rolls the canary back", options, console);
        yield return Annotate("retry", "Analyse again after a pause, or retry a rolled-back version (cd4ml.io/retry)",
            ModelDeployment.RetryAnnotation, "the operator retries the rollout", options, console);
        yield return Approve(options, console);
    }

    private static Command Annotate(string verb, string description, string annotation, string effect,
        ConnectionOptions options, Func<PluginConsole> console, Option<bool>? full = null)
    {
        var kind = new Argument<string>("kind") { Description = "mld (deployments.cd4ml.io)" };
        var name = new Argument<string>("name") { Description = "Deployment name" };
        var command = new Command(verb, description) { kind, name };
        if (full is not null)
        {
            command.Options.Add(full);
        }

        command.SetAction((parse, ct) =>
        {
            var io = console();
            return KubectlCommand.RunAsync(parse, options, io, async client =>
            {
                Require(ResourceKind.Deployment, parse.GetValue(kind)!, verb);
                var (key, outcome) = full is not null && parse.GetValue(full)
                    ? (ModelDeployment.PromoteFullAnnotation, "the operator promotes the canary to stable at once")
                    : (annotation, effect);
                var deployment = parse.GetValue(name)!;
                var value = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
                var patch = new { metadata = new { annotations = new Dictionary<string, string> { [key] = value } } };
                await client.MergePatchAsync<ModelDeployment>(deployment, patch, ct);
                io.Output.WriteLine($"{ResourceKind.Deployment.Resource()}/{deployment}: {key}={value} set; {outcome}");
                return 0;
            });
        });
        return command;
    }

    private static Command Approve(ConnectionOptions options, Func<PluginConsole> console)
    {
        var kind = new Argument<string>("kind") { Description = "mv (modelversions)" };
        var name = new Argument<string>("name") { Description = "ModelVersion name" };
        var command = new Command("approve", "Approve a ModelVersion (spec.approved: true) so Deployments may serve it") { kind, name };
        command.SetAction((parse, ct) =>
        {
            var io = console();
            return KubectlCommand.RunAsync(parse, options, io, async client =>
            {
                Require(ResourceKind.ModelVersion, parse.GetValue(kind)!, "approve");
                var version = parse.GetValue(name)!;
                await client.MergePatchAsync<ModelVersion>(version, new { spec = new { approved = true } }, ct);
                io.Output.WriteLine($"{ResourceKind.ModelVersion.Resource()}/{version} approved");
                return 0;
            });
        });
        return command;
    }

    private static void Require(ResourceKind expected, string given, string verb)
    {
        if (ResourceKinds.Parse(given) != expected)
        {
            throw new PluginException($"{verb} acts on {expected.Resource()} only, not on \"{given}\"");
        }
    }
}
