using System.Globalization;
using System.Text.Json;
using Cd4ml.Artifacts;

namespace Cd4ml.Training;

/// <summary>
/// The training contract: everything a training run needs, carried in environment variables. The operator's Job
/// builder calls <see cref="ToEnvironment"/>, the trainer <see cref="FromEnvironment"/>.
/// </summary>
public sealed record TrainingSettings
{
    public const string DatasetUriVariable = "CD4ML_DATASET_URI";
    public const string DatasetDigestVariable = "CD4ML_DATASET_DIGEST";
    public const string OutputUriVariable = "CD4ML_OUTPUT_URI";
    public const string TaskVariable = "CD4ML_TASK";
    public const string AlgorithmVariable = "CD4ML_ALGORITHM";
    public const string LabelColumnVariable = "CD4ML_LABEL_COLUMN";
    public const string FeatureColumnsVariable = "CD4ML_FEATURE_COLUMNS";
    public const string SchemaVariable = "CD4ML_SCHEMA";
    public const string FiltersVariable = "CD4ML_FILTERS";
    public const string HyperparametersVariable = "CD4ML_HYPERPARAMETERS";
    public const string SplitVariable = "CD4ML_SPLIT";
    public const string MissingLabelsVariable = "CD4ML_MISSING_LABELS";
    public const string SliceColumnsVariable = "CD4ML_SLICE_COLUMNS";
    public const string WeightColumnVariable = "CD4ML_WEIGHT_COLUMN";
    public const string RunNameVariable = "CD4ML_RUN_NAME";
    public const string AttemptVariable = "CD4ML_ATTEMPT";
    public const string ImageVariable = "CD4ML_IMAGE";
    public const string TerminationLogVariable = "CD4ML_TERMINATION_LOG";
    public const string FromFeedbackVariable = "CD4ML_FROM_FEEDBACK";
    public const string DefaultTerminationLogPath = "/dev/termination-log";

    /// <summary>The dataset, a CSV file with a header row.</summary>
    public required S3Location DatasetUri { get; init; }

    /// <summary>Expected <c>sha256:&lt;hex&gt;</c> of the dataset; null accepts any content.</summary>
    public string? DatasetDigest { get; init; }

    /// <summary>Prefix (ending in '/') receiving model.zip, metrics.json, holdout.csv and manifest.json.</summary>
    public required S3Location OutputUri { get; init; }

    public MlTask Task { get; init; } = MlTask.Regression;

    public TrainingAlgorithm Algorithm { get; init; } = AlgorithmCatalog.DefaultFor(MlTask.Regression);

    public required string LabelColumn { get; init; }

    /// <summary>Empty means every schema column except the label.</summary>
    public IReadOnlyList<string> FeatureColumns { get; init; } = [];

    /// <summary>Empty means: infer from the data (the trainer's <c>DatasetSchema.Infer</c>).</summary>
    public IReadOnlyList<ColumnDefinition> Schema { get; init; } = [];

    public IReadOnlyList<RowFilter> Filters { get; init; } = [];

    public IReadOnlyDictionary<string, string> Hyperparameters { get; init; } = new Dictionary<string, string>();

    public SplitSettings Split { get; init; } = new();

    /// <summary>Fail (default) or Drop rows whose label is empty.</summary>
    public MissingLabelPolicy MissingLabels { get; init; } = MissingLabelPolicy.Fail;

    public IReadOnlyList<string> SliceColumns { get; init; } = [];

    /// <summary>Column whose truthy values (1/true) weigh 1.25 instead of 1.0 in nwrmsle, as perishables do in Favorita.</summary>
    public string? WeightColumn { get; init; }

    public string? RunName { get; init; }

    public int Attempt { get; init; } = 1;

    public string? Image { get; init; }

    public string TerminationLogPath { get; init; } = DefaultTerminationLogPath;

    /// <summary>Production rows to append to the dataset (see <see cref="FeedbackCuration"/>); null trains on the dataset alone.</summary>
    public FeedbackSource? FromFeedback { get; init; }

    public S3Settings S3 { get; init; } = new();

    /// <summary>Reads and checks the contract; throws <see cref="TrainingException"/> naming the offending variable.</summary>
    public static TrainingSettings FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        string? Get(string name) => environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value.Trim()
            : null;
        string Required(string name) => Get(name) ?? throw Invalid($"{name} is required.");

        var task = Get(TaskVariable) is { } taskName
            ? Enum.TryParse<MlTask>(taskName, ignoreCase: true, out var parsedTask) && Enum.IsDefined(parsedTask)
                ? parsedTask
                : throw Invalid($"{TaskVariable} '{taskName}' is not one of {string.Join(", ", Enum.GetNames<MlTask>())}.")
            : MlTask.Regression;

        var settings = new TrainingSettings
        {
            DatasetUri = ParseLocation(DatasetUriVariable, Required(DatasetUriVariable)),
            DatasetDigest = Get(DatasetDigestVariable) is { } digest ? Parse(DatasetDigestVariable, () => ContentDigest.ParseSha256Digest(digest)) : null,
            OutputUri = ParseLocation(OutputUriVariable, Required(OutputUriVariable)),
            Task = task,
            Algorithm = AlgorithmCatalog.ParseAlgorithm(task, Get(AlgorithmVariable)),
            LabelColumn = Required(LabelColumnVariable),
            FeatureColumns = SplitList(Get(FeatureColumnsVariable)),
            Schema = ParseJson<List<ColumnDefinition>>(SchemaVariable, Get(SchemaVariable)) ?? [],
            Filters = ParseJson<List<RowFilter>>(FiltersVariable, Get(FiltersVariable)) ?? [],
            Hyperparameters = ParseHyperparameters(Get(HyperparametersVariable)),
            Split = ParseJson<SplitSettings>(SplitVariable, Get(SplitVariable)) ?? new SplitSettings(),
            MissingLabels = Get(MissingLabelsVariable) is { } missing
                ? Enum.TryParse<MissingLabelPolicy>(missing, ignoreCase: true, out var policy) && Enum.IsDefined(policy)
                    ? policy
                    : throw Invalid($"{MissingLabelsVariable} '{missing}' is not one of {string.Join(", ", Enum.GetNames<MissingLabelPolicy>())}.")
                : MissingLabelPolicy.Fail,
            SliceColumns = SplitList(Get(SliceColumnsVariable)),
            WeightColumn = Get(WeightColumnVariable),
            RunName = Get(RunNameVariable),
            Attempt = Get(AttemptVariable) is { } attempt
                ? int.TryParse(attempt, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= 0
                    ? number
                    : throw Invalid($"{AttemptVariable} must be a non-negative integer; got '{attempt}'.")
                : 1,
            Image = Get(ImageVariable),
            TerminationLogPath = Get(TerminationLogVariable) ?? DefaultTerminationLogPath,
            FromFeedback = ParseJson<FeedbackSource>(FromFeedbackVariable, Get(FromFeedbackVariable)),
            S3 = Parse("S3 settings", () => S3Settings.FromEnvironment(environment)),
        };
        settings.Validate();
        return settings;
    }

    /// <summary>The inverse of <see cref="FromEnvironment"/>. Includes the S3 settings (and credentials, when set).</summary>
    public IReadOnlyDictionary<string, string> ToEnvironment()
    {
        var environment = new Dictionary<string, string>
        {
            [DatasetUriVariable] = DatasetUri.ToString(),
            [OutputUriVariable] = OutputUri.ToString(),
            [TaskVariable] = Task.ToString(),
            [AlgorithmVariable] = Algorithm.ToString(),
            [LabelColumnVariable] = LabelColumn,
            [SplitVariable] = JsonSerializer.Serialize(Split, TrainingJson.Options),
            [AttemptVariable] = Attempt.ToString(CultureInfo.InvariantCulture),
            [TerminationLogVariable] = TerminationLogPath,
        };

        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                environment[name] = value;
            }
        }

        Add(DatasetDigestVariable, DatasetDigest);
        Add(FeatureColumnsVariable, string.Join(",", FeatureColumns));
        Add(SchemaVariable, Schema.Count > 0 ? JsonSerializer.Serialize(Schema, TrainingJson.Options) : null);
        Add(FiltersVariable, Filters.Count > 0 ? JsonSerializer.Serialize(Filters, TrainingJson.Options) : null);
        Add(HyperparametersVariable, Hyperparameters.Count > 0 ? JsonSerializer.Serialize(Hyperparameters, TrainingJson.Options) : null);
        Add(SliceColumnsVariable, string.Join(",", SliceColumns));
        Add(MissingLabelsVariable, MissingLabels == MissingLabelPolicy.Fail ? null : MissingLabels.ToString());
        Add(WeightColumnVariable, WeightColumn);
        Add(RunNameVariable, RunName);
        Add(ImageVariable, Image);
        Add(FromFeedbackVariable, FromFeedback is null ? null : JsonSerializer.Serialize(FromFeedback, TrainingJson.Options));
        foreach (var (name, value) in S3.ToEnvironment())
        {
            environment[name] = value;
        }

        return environment;
    }

    /// <summary>Checks what can be checked without the data; column existence is checked against the schema in use.</summary>
    public void Validate()
    {
        if (!OutputUri.IsPrefix)
        {
            throw Invalid($"{OutputUriVariable} must be a prefix ending in '/'; got '{OutputUri}'.");
        }

        if (DatasetUri.IsPrefix)
        {
            throw Invalid($"{DatasetUriVariable} must name an object, not a prefix; got '{DatasetUri}'.");
        }

        if (!AlgorithmCatalog.AllowedFor(Task).Contains(Algorithm))
        {
            throw new TrainingException(TrainingFailureReason.UnknownAlgorithm,
                $"Algorithm {Algorithm} is not available for {Task}; allowed: {string.Join(", ", AlgorithmCatalog.AllowedFor(Task))}.");
        }

        AlgorithmCatalog.ValidateHyperparameters(Algorithm, Hyperparameters);

        if (Split.ValidationFraction is <= 0 or >= 1 || double.IsNaN(Split.ValidationFraction))
        {
            throw Invalid($"{SplitVariable}: validationFraction must be between 0 and 1 (exclusive); got {Split.ValidationFraction}.");
        }

        if (Split.Method == SplitMethod.Time && string.IsNullOrWhiteSpace(Split.TimeColumn))
        {
            throw Invalid($"{SplitVariable}: a Time split needs timeColumn.");
        }

        if (FeatureColumns.Contains(LabelColumn))
        {
            throw Invalid($"{FeatureColumnsVariable} must not contain the label column '{LabelColumn}'.");
        }

        foreach (var column in Schema)
        {
            if (string.IsNullOrWhiteSpace(column.Name))
            {
                throw Invalid($"{SchemaVariable}: every column needs a name.");
            }

            if ((column.Min is not null || column.Max is not null) && !column.IsNumeric)
            {
                throw Invalid($"{SchemaVariable}: column '{column.Name}' is {column.Type}; min/max apply to Number and Integer only.");
            }
        }

        if (Schema.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw Invalid($"{SchemaVariable}: column '{duplicate.Key}' appears more than once.");
        }

        if (Filters.FirstOrDefault(f => f.Min is null && f.Max is null) is { } empty)
        {
            throw Invalid($"{FiltersVariable}: the filter on '{empty.Column}' has neither min nor max.");
        }

        if (FromFeedback is { } feedback)
        {
            if (!S3Location.TryParse(feedback.LogUri, out var log) || !log.IsPrefix)
            {
                throw Invalid($"{FromFeedbackVariable}: logUri must be an S3 prefix ending in '/'; got '{feedback.LogUri}'.");
            }

            if (feedback.WindowSeconds <= 0 || feedback.MaxRows <= 0 || string.IsNullOrWhiteSpace(feedback.Model))
            {
                throw Invalid($"{FromFeedbackVariable}: model, a positive windowSeconds and a positive maxRows are required.");
            }
        }
    }

    internal static TrainingException Invalid(string message) => new(TrainingFailureReason.InvalidSettings, message);

    private static S3Location ParseLocation(string variable, string value) => Parse(variable, () => S3Location.Parse(value));

    private static T Parse<T>(string what, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (FormatException e)
        {
            throw Invalid($"{what}: {e.Message}");
        }
    }

    private static T? ParseJson<T>(string variable, string? json) where T : class
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(json, TrainingJson.Options)
                ?? throw Invalid($"{variable} must not be null.");
        }
        catch (JsonException e)
        {
            throw Invalid($"{variable} is not valid JSON for {typeof(T).Name.Replace("`1", "", StringComparison.Ordinal)}: {e.Message}");
        }
    }

    // String values are the contract; JSON numbers and booleans are accepted too, as their text.
    private static Dictionary<string, string> ParseHyperparameters(string? json)
    {
        var values = ParseJson<Dictionary<string, JsonElement>>(HyperparametersVariable, json) ?? [];
        return values.ToDictionary(v => v.Key, v => v.Value.ValueKind switch
        {
            JsonValueKind.String => v.Value.GetString()!,
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.Value.GetRawText(),
            _ => throw new TrainingException(TrainingFailureReason.InvalidHyperparameter,
                $"Hyperparameter '{v.Key}' must be a string or number; got {v.Value.ValueKind}."),
        });
    }

    private static IReadOnlyList<string> SplitList(string? value) =>
        value is null ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
