using System.Security.Cryptography;
using System.Text;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Runtime.Client;
using Cd4ml.Training;
using k8s.Models;
using ApiTask = Cd4ml.Api.V1Alpha1.MlTask;
using TrainerTask = Cd4ml.Training.MlTask;

namespace Cd4ml.Operator.Training;

/// <summary>
/// Turns a TrainingRun's spec into the training contract (<see cref="TrainingSettings"/>) and into the batch/v1 Job of
/// one attempt. Pure: the same run and attempt always give the same Job.
/// </summary>
public static class TrainingJobBuilder
{
    public const string RunLabel = "cd4ml.io/training-run";
    public const string AttemptLabel = "cd4ml.io/attempt";
    public const string ModelLabel = "cd4ml.io/model";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedBy = "cd4ml-operator";
    public const string KueueQueueLabel = "kueue.x-k8s.io/queue-name";
    public const string KueuePriorityClassLabel = "kueue.x-k8s.io/priority-class";

    /// <summary>The run's labels that Kueue reads from a Job: copied so a team queues its training by labelling the run.</summary>
    public static readonly IReadOnlyList<string> PassedThroughLabels = [KueueQueueLabel, KueuePriorityClassLabel];
    public const string ContainerName = "trainer";
    public const string TerminationMessagePath = TrainingSettings.DefaultTerminationLogPath;
    public const int DefaultBackoffLimit = 1;
    public const long DefaultActiveDeadlineSeconds = 3600;
    public const int DefaultTtlSecondsAfterFinished = 3600;
    private const int MaxNameLength = 63;

    /// <summary>Requested when spec.resources states neither a request nor a limit for cpu or memory.</summary>
    public static readonly IReadOnlyDictionary<string, ResourceQuantity> DefaultRequests = new Dictionary<string, ResourceQuantity>
    {
        ["cpu"] = new("500m"),
        ["memory"] = new("512Mi"),
    };

    /// <summary><c>&lt;run&gt;-&lt;attempt&gt;</c>; a long run name is shortened and made unique with a hash (Job names feed Pod labels: 63 characters).</summary>
    public static string JobName(string runName, int attempt) => Shorten(runName, MaxNameLength - $"-{attempt}".Length) + $"-{attempt}";

    /// <summary>A label value (at most 63 characters) naming the run.</summary>
    public static string LabelValue(string value) => Shorten(value, MaxNameLength);

    /// <summary>Where attempts write: spec.output.uri, else s3://&lt;dataset bucket&gt;/cd4ml/models/&lt;model&gt;/.</summary>
    public static S3Location OutputRoot(TrainingRun run) => run.Spec.Output?.Uri is { Length: > 0 } uri
        ? S3Location.Parse(uri).AsPrefix()
        : new S3Location(S3Location.Parse(run.Spec.Dataset.Uri).Bucket, $"cd4ml/models/{run.Spec.ModelName}/");

    /// <summary>The prefix of one attempt: &lt;output root&gt;&lt;run&gt;/&lt;attempt&gt;/.</summary>
    public static S3Location OutputUri(TrainingRun run, int attempt) => OutputRoot(run).Combine($"{run.Metadata.Name}/{attempt}/");

    public static TrainerTask Task(TrainingRun run) => ContractEnums.ByName<TrainerTask>(run.Spec.Trainer?.Task ?? ApiTask.Regression);

    /// <summary>spec.trainer.algorithm, else the task's default.</summary>
    public static TrainingAlgorithm Algorithm(TrainingRun run) => run.Spec.Trainer?.Algorithm is { } algorithm
        ? ContractEnums.ByName<TrainingAlgorithm>(algorithm)
        : AlgorithmCatalog.DefaultFor(Task(run));

    /// <summary>The training contract of one attempt, without credentials (those come from the Secret).</summary>
    /// <exception cref="TrainingException">The spec cannot be expressed as valid settings.</exception>
    /// <exception cref="FormatException">A URI is malformed.</exception>
    public static TrainingSettings Settings(TrainingRun run, int attempt, string image, S3StorageSpec? storage = null,
        FeedbackSource? fromFeedback = null)
    {
        var spec = run.Spec;
        storage ??= spec.Storage;
        var split = spec.Dataset.Split;
        var endpoint = storage?.Endpoint is { Length: > 0 } e ? e : null;
        var settings = new TrainingSettings
        {
            DatasetUri = S3Location.Parse(spec.Dataset.Uri),
            DatasetDigest = spec.Dataset.Digest,
            OutputUri = OutputUri(run, attempt),
            Task = Task(run),
            Algorithm = Algorithm(run),
            LabelColumn = spec.Dataset.LabelColumn,
            FeatureColumns = spec.Dataset.FeatureColumns ?? [],
            Schema = (spec.Dataset.Columns ?? [])
                .Select(c => new ColumnDefinition(c.Name, ContractEnums.ByName<Cd4ml.Training.ColumnType>(c.Type), c.Nullable ?? false, c.Min, c.Max))
                .ToList(),
            Filters = (spec.Dataset.Filters ?? []).Select(f => new Cd4ml.Training.RowFilter(f.Column, f.Min, f.Max)).ToList(),
            Hyperparameters = spec.Trainer?.Hyperparameters ?? new Dictionary<string, string>(),
            Split = new SplitSettings(
                ContractEnums.ByName<Cd4ml.Training.SplitMethod>(split?.Method ?? Api.V1Alpha1.SplitMethod.Random),
                split?.ValidationFraction ?? 0.2,
                split?.Seed ?? 42,
                split?.TimeColumn),
            SliceColumns = spec.Dataset.SliceColumns ?? [],
            WeightColumn = spec.Dataset.WeightColumn,
            MissingLabels = ContractEnums.ByName<Cd4ml.Training.MissingLabelPolicy>(spec.Dataset.MissingLabels ?? Api.V1Alpha1.MissingLabelPolicy.Fail),
            RunName = run.Metadata.Name,
            Attempt = attempt,
            Image = image,
            FromFeedback = fromFeedback,
            S3 = new S3Settings
            {
                ServiceUrl = endpoint,
                Region = storage?.Region is { Length: > 0 } region ? region : S3Settings.DefaultRegion,
                ForcePathStyle = storage?.ForcePathStyle ?? endpoint is not null,
            },
        };
        settings.Validate();
        return settings;
    }

    public static readonly TimeSpan DefaultFeedbackWindow = TimeSpan.FromHours(168);

    /// <summary>The trainer's dataset.fromFeedback source: the spec's window and maxRows (or defaults) and the Deployment's log prefix.</summary>
    public static FeedbackSource? FromFeedback(TrainingRun run, string logUri) => run.Spec.Dataset.FromFeedback is { } spec
        ? new FeedbackSource(logUri, run.Spec.ModelName, (long)DurationText.ParseOr(spec.Window, DefaultFeedbackWindow).TotalSeconds,
            spec.MaxRows ?? FeedbackSource.DefaultMaxRows, spec.Deployment)
        : null;

    public static string Image(TrainingRun run, OperatorOptions options) =>
        run.Spec.Trainer?.Image is { Length: > 0 } image ? image : options.Image;

    /// <summary>The Job of one attempt; <paramref name="options"/> as seen from the run's namespace (its platform defaults).</summary>
    /// <param name="fromFeedback">dataset.fromFeedback with the Deployment's log prefix (<see cref="FromFeedback"/>), or null.</param>
    public static V1Job Build(TrainingRun run, int attempt, OperatorOptions options, FeedbackSource? fromFeedback = null)
    {
        var spec = run.Spec;
        var image = Image(run, options);
        var storage = options.Platform.Storage(spec.Storage);
        var customImage = spec.Trainer?.Image is { Length: > 0 };
        var labels = new Dictionary<string, string>
        {
            [RunLabel] = LabelValue(run.Metadata.Name),
            [AttemptLabel] = attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [ModelLabel] = spec.ModelName,
            [ManagedByLabel] = ManagedBy,
        };
        var owner = ResourceType.Of<TrainingRun>();
        var jobLabels = new Dictionary<string, string>(labels);
        foreach (var key in PassedThroughLabels)
        {
            if (run.Metadata.Labels?.TryGetValue(key, out var value) == true)
            {
                jobLabels[key] = value;
            }
        }

        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = JobName(run.Metadata.Name, attempt),
                NamespaceProperty = run.Metadata.NamespaceProperty,
                Labels = jobLabels,
                OwnerReferences =
                [
                    new V1OwnerReference
                    {
                        ApiVersion = owner.ApiVersion, Kind = owner.Kind, Name = run.Metadata.Name, Uid = run.Metadata.Uid,
                        Controller = true, BlockOwnerDeletion = true,
                    },
                ],
            },
            Spec = new V1JobSpec
            {
                BackoffLimit = spec.BackoffLimit ?? DefaultBackoffLimit,
                ActiveDeadlineSeconds = spec.ActiveDeadlineSeconds ?? DefaultActiveDeadlineSeconds,
                TtlSecondsAfterFinished = spec.TtlSecondsAfterFinished ?? DefaultTtlSecondsAfterFinished,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels) },
                    Spec = RestrictedPod.Apply(new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        ServiceAccountName = spec.ServiceAccountName,
                        NodeSelector = spec.NodeSelector,
                        Tolerations = spec.Tolerations,
                        Containers =
                        [
                            new V1Container
                            {
                                Name = ContainerName,
                                Image = image,
                                Command = customImage ? spec.Trainer?.Command : null,
                                Args = spec.Trainer?.Args is { Count: > 0 } args ? args : customImage ? null : ["train"],
                                Env = Environment(Settings(run, attempt, image, storage, fromFeedback), storage),
                                Resources = spec.Resources ?? options.Platform.TrainingResources,
                                TerminationMessagePath = TerminationMessagePath,
                                TerminationMessagePolicy = "FallbackToLogsOnError",
                            },
                        ],
                    }, DefaultRequests),
                },
            },
        };
    }

    /// <summary>
    /// The contract's variables, sorted; S3 credentials only as secretKeyRef to the effective storage's Secret so no
    /// secret value ever lands in the Job. The termination log stays at the container's terminationMessagePath.
    /// </summary>
    public static List<V1EnvVar> Environment(TrainingSettings settings, S3StorageSpec? storage)
    {
        var variables = settings.ToEnvironment()
            .Where(v => v.Key != TrainingSettings.TerminationLogVariable)
            .OrderBy(v => v.Key, StringComparer.Ordinal)
            .Select(v => new V1EnvVar { Name = v.Key, Value = v.Value })
            .ToList();
        if (storage?.SecretRef is { } secret)
        {
            foreach (var key in new[] { S3Settings.AccessKeyIdVariable, S3Settings.SecretAccessKeyVariable })
            {
                variables.Add(new V1EnvVar
                {
                    Name = key,
                    ValueFrom = new V1EnvVarSource
                    {
                        SecretKeyRef = new V1SecretKeySelector { Key = key, Name = secret.Name, Optional = false },
                    },
                });
            }
        }

        return variables;
    }

    private static string Shorten(string value, int max)
    {
        if (value.Length <= max)
        {
            return value;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..8];
        return value[..(max - hash.Length - 1)].TrimEnd('-', '.') + "-" + hash;
    }
}
