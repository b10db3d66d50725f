using System.Globalization;

namespace Cd4ml.Training;

/// <summary>
/// Which algorithms each task allows, which hyperparameters each algorithm accepts, their defaults and valid ranges.
/// Hyperparameter names are the same across algorithms where the meaning is the same (numberOfTrees is LightGBM's
/// NumberOfIterations). How they become an ML.NET trainer is the trainer's business (<c>TrainerFactory</c> in
/// Cd4ml.Training); this table is shared with the operator, which checks a TrainingRun against it.
/// </summary>
public static class AlgorithmCatalog
{
    private static readonly string[] TreeParameters = ["numberOfTrees", "numberOfLeaves", "learningRate", "minimumExampleCountPerLeaf"];
    private static readonly string[] LightGbmParameters = [.. TreeParameters, "l2Regularization", EarlyStoppingRounds];
    private static readonly string[] LinearParameters = ["maximumNumberOfIterations", "l1Regularization", "l2Regularization"];
    private static readonly HashSet<string> IntegerParameters =
        ["numberOfTrees", "numberOfLeaves", "minimumExampleCountPerLeaf", "maximumNumberOfIterations", EarlyStoppingRounds];

    /// <summary>LightGBM stops when this many rounds in a row do not improve the loss on the early-stopping set; 0 = off.</summary>
    public const string EarlyStoppingRounds = "earlyStoppingRounds";

    /// <summary>The share of the training rows held out to decide when to stop (the model trains on the rest).</summary>
    public const double EarlyStoppingFraction = 0.1;

    /// <summary>With more training rows than this, LightGBM stops early by default (as scikit-learn's early_stopping='auto').</summary>
    public const int EarlyStoppingMinimumRows = 10_000;

    /// <summary>
    /// Tree hyperparameters the run does not set: those of LightGBM and of scikit-learn's HistGradientBoosting* (the
    /// model a data scientist reaches for on tabular data), up to 100 boosting rounds at learning rate 0.1 on trees of
    /// at most 31 leaves with at least 20 rows each, no L2 penalty, 255 bins per feature (ML.NET's default). They are
    /// general-purpose choices, not tuned to any one dataset: tests/Cd4ml.Benchmarks.Training compares them with
    /// HistGradientBoosting's defaults on several public datasets and the synthetic retail set. LightGBM also stops
    /// early on larger data (see <see cref="EarlyStoppingRounds"/>); FastTree always trains every tree.
    /// </summary>
    public static IReadOnlyDictionary<string, string> TreeDefaults { get; } = new Dictionary<string, string>
    {
        ["numberOfTrees"] = "100",
        ["numberOfLeaves"] = "31",
        ["minimumExampleCountPerLeaf"] = "20",
        ["learningRate"] = "0.1",
    };

    /// <summary>
    /// LightGBM for every task: the fastest of ML.NET's tree learners here (it bins features once and grows leaves
    /// best-first), and the only tree learner ML.NET offers for multiclass. FastTree stays available by name.
    /// </summary>
    public static TrainingAlgorithm DefaultFor(MlTask task) => TrainingAlgorithm.LightGbm;

    /// <summary>
    /// The hyperparameters a run trains with: what it set, and every tree default it did not set. LightGBM's
    /// early stopping defaults to 10 rounds when there are more than <see cref="EarlyStoppingMinimumRows"/> training
    /// rows and is off below (a tenth of a small set is too few rows to judge the loss by). Linear learners record only
    /// what the run set: ML.NET chooses the others from the data.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Resolve(TrainingAlgorithm algorithm, IReadOnlyDictionary<string, string> set, int trainRows)
    {
        var resolved = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (algorithm is TrainingAlgorithm.FastTree or TrainingAlgorithm.LightGbm)
        {
            foreach (var (key, value) in TreeDefaults)
            {
                resolved[key] = value;
            }
        }

        if (algorithm == TrainingAlgorithm.LightGbm)
        {
            resolved["l2Regularization"] = "0";
            resolved[EarlyStoppingRounds] = trainRows > EarlyStoppingMinimumRows ? "10" : "0";
        }

        foreach (var (key, value) in set)
        {
            resolved[key] = value;
        }

        return resolved;
    }

    public static IReadOnlyList<TrainingAlgorithm> AllowedFor(MlTask task) => task switch
    {
        MlTask.Regression => [TrainingAlgorithm.FastTree, TrainingAlgorithm.LightGbm, TrainingAlgorithm.Sdca],
        MlTask.BinaryClassification =>
            [TrainingAlgorithm.FastTree, TrainingAlgorithm.LightGbm, TrainingAlgorithm.Sdca, TrainingAlgorithm.LogisticRegression],
        _ => [TrainingAlgorithm.LightGbm, TrainingAlgorithm.Sdca],
    };

    public static IReadOnlyList<string> HyperparametersFor(TrainingAlgorithm algorithm) => algorithm switch
    {
        TrainingAlgorithm.FastTree => TreeParameters,
        TrainingAlgorithm.LightGbm => LightGbmParameters,
        _ => LinearParameters,
    };

    /// <summary>Parses an algorithm name for a task; throws UnknownAlgorithm listing the allowed names.</summary>
    public static TrainingAlgorithm ParseAlgorithm(MlTask task, string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return DefaultFor(task);
        }

        var allowed = AllowedFor(task);
        var match = allowed.Where(a => string.Equals(a.ToString(), name.Trim(), StringComparison.OrdinalIgnoreCase)).ToList();
        return match.Count == 1
            ? match[0]
            : throw new TrainingException(TrainingFailureReason.UnknownAlgorithm,
                $"Unknown algorithm '{name}' for {task}; allowed: {string.Join(", ", allowed)}.");
    }

    /// <summary>Checks every key and value; throws InvalidHyperparameter naming the key and the allowed keys.</summary>
    public static void ValidateHyperparameters(TrainingAlgorithm algorithm, IReadOnlyDictionary<string, string> hyperparameters)
    {
        var allowed = HyperparametersFor(algorithm);
        foreach (var (key, value) in hyperparameters)
        {
            if (!allowed.Contains(key))
            {
                throw new TrainingException(TrainingFailureReason.InvalidHyperparameter,
                    $"Unknown hyperparameter '{key}' for {algorithm}; allowed: {string.Join(", ", allowed)}.");
            }

            var valid = IntegerParameters.Contains(key)
                ? int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer)
                  && (integer > 0 || (integer == 0 && key == EarlyStoppingRounds))
                : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                  && double.IsFinite(number) && (key == "learningRate" ? number > 0 : number >= 0);
            if (!valid)
            {
                var expected = key == EarlyStoppingRounds ? "a non-negative integer (0 = off)"
                    : IntegerParameters.Contains(key) ? "a positive integer"
                    : key == "learningRate" ? "a positive number" : "a non-negative number";
                throw new TrainingException(TrainingFailureReason.InvalidHyperparameter,
                    $"Hyperparameter '{key}' must be {expected}; got '{value}'.");
            }
        }
    }
}
