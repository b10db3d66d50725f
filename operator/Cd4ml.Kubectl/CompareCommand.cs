using System.CommandLine;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Kubectl.Views;

namespace Cd4ml.Kubectl;

/// <summary>
/// `compare mv A B …` / `compare tr --model NAME`: metrics, slice metrics, parameters and dataset digests side by
/// side, one column per version or run.
/// </summary>
internal static class CompareCommand
{
    public static Command Create(ConnectionOptions options, Func<PluginConsole> console)
    {
        var kind = new Argument<string>("kind") { Description = "mv (ModelVersions) or tr (TrainingRuns)" };
        var names = new Argument<string[]>("names") { Description = "Objects to compare (or use --model)", Arity = ArgumentArity.ZeroOrMore };
        var model = new Option<string?>("--model") { Description = "Compare every object of this model" };
        var command = new Command("compare", "Compare ModelVersions or TrainingRuns side by side; differences marked ≠, best metric ★")
        {
            kind, names, model,
        };
        command.SetAction((parse, ct) =>
        {
            var io = console();
            return KubectlCommand.RunAsync(parse, options, io, async client =>
            {
                var resourceKind = ResourceKinds.Parse(parse.GetValue(kind)!);
                var selected = parse.GetValue(names) ?? [];
                var modelName = parse.GetValue(model);
                if (selected.Length == 0 && modelName is null)
                {
                    throw new PluginException("name the objects to compare, or pass --model NAME");
                }

                var items = resourceKind switch
                {
                    ResourceKind.ModelVersion => (await SelectAsync<ModelVersion>(client, selected, modelName, v => v.Spec.ModelName, ct))
                        .OrderBy(v => v.Spec.ModelName, StringComparer.Ordinal).ThenBy(v => v.Spec.Version).Select(Of).ToList(),
                    ResourceKind.TrainingRun => (await SelectAsync<TrainingRun>(client, selected, modelName, r => r.Spec.ModelName, ct))
                        .OrderBy(r => r.Metadata.CreationTimestamp).ThenBy(r => r.Metadata.Name, StringComparer.Ordinal).Select(Of).ToList(),
                    _ => throw new PluginException("compare takes mv (ModelVersions) or tr (TrainingRuns)"),
                };
                if (items.Count == 0)
                {
                    throw new PluginException($"no {resourceKind.Resource()} of model \"{modelName}\" in namespace \"{client.Namespace}\"");
                }

                io.Console.Write(SideBySide.Render(items));
                return 0;
            });
        });
        return command;
    }

    private static async Task<IReadOnlyList<T>> SelectAsync<T>(PluginClient client, string[] names, string? model,
        Func<T, string> modelOf, CancellationToken ct) where T : class, k8s.IKubernetesObject<k8s.Models.V1ObjectMeta>
    {
        if (names.Length == 0)
        {
            return (await client.ListAsync<T>(ct)).Where(o => modelOf(o) == model).ToList();
        }

        var found = new List<T>();
        foreach (var name in names.Distinct())
        {
            found.Add(await client.GetAsync<T>(name, ct));
        }

        return found;
    }

    public static ComparedItem Of(ModelVersion version)
    {
        var lineage = version.Spec.Lineage;
        var info = new Dictionary<string, string>
        {
            ["model"] = $"{version.Spec.ModelName} v{version.Spec.Version}",
            ["phase"] = version.Status?.Phase ?? "",
            ["approved"] = version.Spec.Approved == true ? "yes" : "no",
        };
        if (lineage?.TrainingRun is { } run)
        {
            info["trained by"] = $"{run} attempt {lineage.Attempt}";
        }

        var parameters = new Dictionary<string, string>(lineage?.Parameters ?? []);
        if (lineage?.Algorithm is { } algorithm)
        {
            parameters["algorithm"] = algorithm;
        }

        if (version.Spec.Task is { } task)
        {
            parameters["task"] = task.ToString();
        }

        return new ComparedItem(version.Metadata.Name, info, version.Spec.Metrics ?? [], parameters,
            Dataset(lineage?.DatasetUri, lineage?.DatasetDigest));
    }

    public static ComparedItem Of(TrainingRun run)
    {
        var status = run.Status;
        var info = new Dictionary<string, string>
        {
            ["model"] = run.Spec.ModelName,
            ["phase"] = status?.Phase ?? "",
            ["attempt"] = status?.Attempt?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
            ["gates"] = status?.GatesSummary ?? "",
            ["version"] = status?.ModelVersion ?? "",
        };
        var trainer = run.Spec.Trainer;
        var parameters = new Dictionary<string, string>(trainer?.Hyperparameters ?? []);
        if (trainer?.Algorithm is { } algorithm)
        {
            parameters["algorithm"] = algorithm.ToString();
        }

        if (trainer?.Task is { } task)
        {
            parameters["task"] = task.ToString();
        }

        return new ComparedItem(run.Metadata.Name, info, status?.Metrics ?? [], parameters,
            Dataset(run.Spec.Dataset.Uri, status?.DatasetDigest ?? run.Spec.Dataset.Digest));
    }

    private static Dictionary<string, string> Dataset(string? uri, string? digest)
    {
        var dataset = new Dictionary<string, string>();
        if (uri is not null)
        {
            dataset["uri"] = uri;
        }

        if (digest is not null)
        {
            dataset["digest"] = Format.ShortDigest(digest);
        }

        return dataset;
    }
}
