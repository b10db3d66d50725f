using System.Globalization;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Client;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Training;

/// <summary>
/// What a successful attempt registers. <see cref="Manifest"/> is the trainer's manifest.json when it could be read:
/// lineage then records the algorithm and every hyperparameter the trainer used (defaults included), not the spec's.
/// </summary>
public sealed record Registration(
    string ArtifactUri,
    string ArtifactSha256,
    IReadOnlyDictionary<string, double> Metrics,
    string? DatasetDigest,
    string Image,
    Cd4ml.Training.ModelManifest? Manifest);

/// <summary>
/// Registers a ModelVersion <c>&lt;model&gt;-&lt;n&gt;</c> for a successful attempt, exactly once: a version labelled
/// with this run (by uid) and attempt is adopted instead of creating another, so a crash between create and the
/// status write cannot register twice; a name taken concurrently (AlreadyExists) moves on to the next number.
/// The version is not owned by the run: deleting a run keeps its models.
/// </summary>
public sealed class ModelRegistrar(IKubernetes kubernetes)
{
    public const string RunUidAnnotation = "cd4ml.io/training-run-uid";
    public const string VersionLabel = "cd4ml.io/version";
    private readonly ResourceClient<ModelVersion> versions = new(kubernetes);

    public async Task<(ModelVersion Version, bool Created)> RegisterAsync(TrainingRun run, int attempt, Registration registration,
        CancellationToken ct)
    {
        for (var tries = 0; ; tries++)
        {
            var existing = await ListAsync(run.Metadata.NamespaceProperty, ct);
            var mine = existing.FirstOrDefault(v =>
                v.Metadata.Annotations?.TryGetValue(RunUidAnnotation, out var uid) == true && uid == run.Metadata.Uid
                && v.Metadata.Labels?.TryGetValue(TrainingJobBuilder.AttemptLabel, out var a) == true
                && a == attempt.ToString(CultureInfo.InvariantCulture));
            if (mine is not null)
            {
                return (mine, false);
            }

            var number = 1 + existing.Where(v => v.Spec.ModelName == run.Spec.ModelName).Select(v => v.Spec.Version).DefaultIfEmpty(0).Max();
            try
            {
                return (await versions.CreateAsync(Build(run, attempt, number, registration), ct), true);
            }
            catch (Exception e) when (ApiErrors.IsAlreadyExists(e) && tries < 5)
            {
                // Another run registered this number first (or a same-named object exists): look again.
            }
        }
    }

    public static ModelVersion Build(TrainingRun run, int attempt, int number, Registration registration)
    {
        var spec = run.Spec;
        return new ModelVersion
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"{spec.ModelName}-{number}",
                NamespaceProperty = run.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string>
                {
                    [TrainingJobBuilder.ModelLabel] = spec.ModelName,
                    [VersionLabel] = number.ToString(CultureInfo.InvariantCulture),
                    [TrainingJobBuilder.RunLabel] = TrainingJobBuilder.LabelValue(run.Metadata.Name),
                    [TrainingJobBuilder.AttemptLabel] = attempt.ToString(CultureInfo.InvariantCulture),
                    [TrainingJobBuilder.ManagedByLabel] = TrainingJobBuilder.ManagedBy,
                },
                Annotations = new Dictionary<string, string> { [RunUidAnnotation] = run.Metadata.Uid ?? "" },
            },
            Spec = new ModelVersionSpec
            {
                ModelName = spec.ModelName,
                Version = number,
                Artifact = new ArtifactSpec { Uri = registration.ArtifactUri, Sha256 = registration.ArtifactSha256 },
                Task = spec.Trainer?.Task ?? MlTask.Regression,
                Metrics = new Dictionary<string, double>(registration.Metrics),
                Lineage = new Lineage
                {
                    TrainingRun = run.Metadata.Name,
                    Attempt = attempt,
                    DatasetUri = spec.Dataset.Uri,
                    DatasetDigest = registration.DatasetDigest,
                    Image = registration.Image,
                    Algorithm = (registration.Manifest?.Algorithm ?? TrainingJobBuilder.Algorithm(run)).ToString(),
                    Parameters = (registration.Manifest?.Hyperparameters ?? spec.Trainer?.Hyperparameters) is { Count: > 0 } parameters
                        ? new Dictionary<string, string>(parameters)
                        : null,
                    TrainerVersion = registration.Manifest?.TrainerVersion,
                    Production = Production(registration.Manifest?.Production),
                },
                Approved = false,
                Storage = spec.Storage,
                Description = $"Trained by TrainingRun {run.Metadata.Name}, attempt {attempt}.",
            },
        };
    }

    /// <summary>The lineage lists at most this many prediction-log and feedback objects; Sources counts them all.</summary>
    public const int MaxLineageObjects = 100;

    private static ProductionLineage? Production(Cd4ml.Training.ProductionData? production) => production is null
        ? null
        : new ProductionLineage
        {
            Deployment = production.Deployment,
            CuratedDatasetUri = production.CuratedDatasetUri,
            Rows = production.Rows,
            Window = TrainingRunReconciler.WindowText(production.WindowSeconds),
            Objects = production.Objects.Count > 0 ? production.Objects.Take(MaxLineageObjects).ToList() : null,
            Sources = production.Objects.Count,
        };

    private async Task<IReadOnlyList<ModelVersion>> ListAsync(string @namespace, CancellationToken ct)
    {
        var all = new List<ModelVersion>();
        string? next = null;
        do
        {
            var page = await versions.ListAsync(@namespace, 500, next, ct);
            all.AddRange(page.Items);
            next = page.Metadata.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));

        return all;
    }
}
