using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Cd4ml.Training;

/// <summary>
/// Which algorithms each task allows, which hyperparameters each algorithm accepts, and how they become an ML.NET
/// trainer. Hyperparameter names are the same across algorithms where the meaning is the same (numberOfTrees is
/// LightGBM's NumberOfIterations). Linear trainers run on one thread so that a seed gives identical models.
/// Tree trainers run on one thread too: on the data a trainer holds in memory, splitting one tree's work across
/// threads costs more in synchronization than it saves, and LightGBM's OpenMP threads spin and stall when the node's
/// cores are shared or a pod's CPU quota is tight (5-40x slower than one thread, measured on a busy 2-core machine).
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

    /// <summary>The ML.NET trainer for <paramref name="hyperparameters"/> as <see cref="Resolve"/> gives them.</summary>
    internal static IEstimator<ITransformer> CreateTrainer(MLContext ml, MlTask task, TrainingAlgorithm algorithm,
        IReadOnlyDictionary<string, string> hyperparameters, string labelColumn, string featureColumn, int seed)
    {
        string? Value(string key) => hyperparameters.GetValueOrDefault(key);
        int? Int(string key) => Value(key) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : null;
        double? Double(string key) => Value(key) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : null;

        T Tree<T>(T options) where T : BoostedTreeOptions
        {
            options.LabelColumnName = labelColumn;
            options.FeatureColumnName = featureColumn;
            options.Seed = seed;
            options.NumberOfThreads = 1;
            options.NumberOfTrees = Int("numberOfTrees") ?? options.NumberOfTrees;
            options.NumberOfLeaves = Int("numberOfLeaves") ?? options.NumberOfLeaves;
            options.MinimumExampleCountPerLeaf = Int("minimumExampleCountPerLeaf") ?? options.MinimumExampleCountPerLeaf;
            options.LearningRate = Double("learningRate") ?? options.LearningRate;
            return options;
        }

        // The three LightGBM option types share their settings through a base nested in a generic class.
        TOptions LightGbm<TOptions, TOutput, TTransformer, TModel>(TOptions options)
            where TOptions : LightGbmTrainerBase<TOptions, TOutput, TTransformer, TModel>.OptionsBase, new()
            where TTransformer : ISingleFeaturePredictionTransformer<TModel>
            where TModel : class
        {
            options.LabelColumnName = labelColumn;
            options.FeatureColumnName = featureColumn;
            options.Seed = seed;
            options.Deterministic = true;
            options.NumberOfThreads = 1;
            options.NumberOfIterations = Int("numberOfTrees") ?? options.NumberOfIterations;
            options.NumberOfLeaves = Int("numberOfLeaves") ?? options.NumberOfLeaves;
            options.LearningRate = Double("learningRate") ?? options.LearningRate;
            options.MinimumExampleCountPerLeaf = Int("minimumExampleCountPerLeaf") ?? options.MinimumExampleCountPerLeaf;
            options.Booster = new GradientBooster.Options { L2Regularization = Double("l2Regularization") ?? 0 };
            options.EarlyStoppingRound = Int(EarlyStoppingRounds) ?? 0;
            return options;
        }

        switch (task, algorithm)
        {
            case (MlTask.Regression, TrainingAlgorithm.FastTree):
                return ml.Regression.Trainers.FastTree(Tree(new FastTreeRegressionTrainer.Options()));
            case (MlTask.BinaryClassification, TrainingAlgorithm.FastTree):
                return ml.BinaryClassification.Trainers.FastTree(Tree(new FastTreeBinaryTrainer.Options()));
            case (MlTask.Regression, TrainingAlgorithm.LightGbm):
                return ml.Regression.Trainers.LightGbm(LightGbm<LightGbmRegressionTrainer.Options, float,
                    RegressionPredictionTransformer<LightGbmRegressionModelParameters>, LightGbmRegressionModelParameters>(
                    new() { EvaluationMetric = LightGbmRegressionTrainer.Options.EvaluateMetricType.RootMeanSquaredError }));
            case (MlTask.BinaryClassification, TrainingAlgorithm.LightGbm):
                return ml.BinaryClassification.Trainers.LightGbm(LightGbm<LightGbmBinaryTrainer.Options, float,
                    BinaryPredictionTransformer<CalibratedModelParametersBase<LightGbmBinaryModelParameters, PlattCalibrator>>,
                    CalibratedModelParametersBase<LightGbmBinaryModelParameters, PlattCalibrator>>(
                    new() { EvaluationMetric = LightGbmBinaryTrainer.Options.EvaluateMetricType.Logloss }));
            case (MlTask.MulticlassClassification, TrainingAlgorithm.LightGbm):
                return ml.MulticlassClassification.Trainers.LightGbm(LightGbm<LightGbmMulticlassTrainer.Options, VBuffer<float>,
                    MulticlassPredictionTransformer<OneVersusAllModelParameters>, OneVersusAllModelParameters>(
                    new() { EvaluationMetric = LightGbmMulticlassTrainer.Options.EvaluateMetricType.LogLoss }));
            case (MlTask.Regression, TrainingAlgorithm.Sdca):
                return ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options
                {
                    LabelColumnName = labelColumn,
                    FeatureColumnName = featureColumn,
                    NumberOfThreads = 1,
                    MaximumNumberOfIterations = Int("maximumNumberOfIterations"),
                    L1Regularization = (float?)Double("l1Regularization"),
                    L2Regularization = (float?)Double("l2Regularization"),
                });
            case (MlTask.BinaryClassification, TrainingAlgorithm.Sdca):
                return ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
                {
                    LabelColumnName = labelColumn,
                    FeatureColumnName = featureColumn,
                    NumberOfThreads = 1,
                    MaximumNumberOfIterations = Int("maximumNumberOfIterations"),
                    L1Regularization = (float?)Double("l1Regularization"),
                    L2Regularization = (float?)Double("l2Regularization"),
                });
            case (MlTask.MulticlassClassification, TrainingAlgorithm.Sdca):
                return ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
                {
                    LabelColumnName = labelColumn,
                    FeatureColumnName = featureColumn,
                    NumberOfThreads = 1,
                    MaximumNumberOfIterations = Int("maximumNumberOfIterations"),
                    L1Regularization = (float?)Double("l1Regularization"),
                    L2Regularization = (float?)Double("l2Regularization"),
                });
            case (MlTask.BinaryClassification, TrainingAlgorithm.LogisticRegression):
            {
                var options = new LbfgsLogisticRegressionBinaryTrainer.Options
                {
                    LabelColumnName = labelColumn,
                    FeatureColumnName = featureColumn,
                    NumberOfThreads = 1,
                };
                options.L1Regularization = (float?)Double("l1Regularization") ?? options.L1Regularization;
                options.L2Regularization = (float?)Double("l2Regularization") ?? options.L2Regularization;
                options.MaximumNumberOfIterations = Int("maximumNumberOfIterations") ?? options.MaximumNumberOfIterations;
                return ml.BinaryClassification.Trainers.LbfgsLogisticRegression(options);
            }
            default:
                throw new TrainingException(TrainingFailureReason.UnknownAlgorithm,
                    $"Algorithm {algorithm} is not available for {task}; allowed: {string.Join(", ", AllowedFor(task))}.");
        }
    }
}
