using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Cd4ml.Training;

/// <summary>
/// Turns an algorithm and its hyperparameters (<see cref="AlgorithmCatalog"/>) into an ML.NET trainer.
/// Linear trainers run on one thread so that a seed gives identical models. Tree trainers run on one thread too: on
/// the data a trainer holds in memory, splitting one tree's work across threads costs more in synchronization than it
/// saves, and LightGBM's OpenMP threads spin and stall when the node's cores are shared or a pod's CPU quota is tight
/// (5-40x slower than one thread, measured on a busy 2-core machine).
/// </summary>
internal static class TrainerFactory
{
    /// <summary>The ML.NET trainer for <paramref name="hyperparameters"/> as <see cref="AlgorithmCatalog.Resolve"/> gives them.</summary>
    internal static IEstimator<ITransformer> Create(MLContext ml, MlTask task, TrainingAlgorithm algorithm,
        IReadOnlyDictionary<string, string> hyperparameters, string labelColumn, string featureColumn, int seed)
    {
        string? Value(string key) => hyperparameters.GetValueOrDefault(key);
        int? Int(string key) => Value(key) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : null;
        double? Double(string key) => Value(key) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : null;

        // ML.NET's option types share no base that holds these settings: each family declares them in a base of its
        // own (LightGBM's and SDCA's nested in a generic class, whose type arguments C# infers from the options).
        T Options<T>(T options, Action<T> applyFamilySettings) where T : TrainerInputBaseWithLabel
        {
            options.LabelColumnName = labelColumn;
            options.FeatureColumnName = featureColumn;
            applyFamilySettings(options);
            return options;
        }

        void Tree(BoostedTreeOptions options)
        {
            options.Seed = seed;
            options.NumberOfThreads = 1;
            options.NumberOfTrees = Int("numberOfTrees") ?? options.NumberOfTrees;
            options.NumberOfLeaves = Int("numberOfLeaves") ?? options.NumberOfLeaves;
            options.MinimumExampleCountPerLeaf = Int("minimumExampleCountPerLeaf") ?? options.MinimumExampleCountPerLeaf;
            options.LearningRate = Double("learningRate") ?? options.LearningRate;
        }

        void LightGbm<TOptions, TOutput, TTransformer, TModel>(LightGbmTrainerBase<TOptions, TOutput, TTransformer, TModel>.OptionsBase options)
            where TOptions : LightGbmTrainerBase<TOptions, TOutput, TTransformer, TModel>.OptionsBase, new()
            where TTransformer : ISingleFeaturePredictionTransformer<TModel>
            where TModel : class
        {
            options.Seed = seed;
            options.Deterministic = true;
            options.NumberOfThreads = 1;
            options.NumberOfIterations = Int("numberOfTrees") ?? options.NumberOfIterations;
            options.NumberOfLeaves = Int("numberOfLeaves") ?? options.NumberOfLeaves;
            options.LearningRate = Double("learningRate") ?? options.LearningRate;
            options.MinimumExampleCountPerLeaf = Int("minimumExampleCountPerLeaf") ?? options.MinimumExampleCountPerLeaf;
            options.Booster = new GradientBooster.Options { L2Regularization = Double("l2Regularization") ?? 0 };
            options.EarlyStoppingRound = Int(AlgorithmCatalog.EarlyStoppingRounds) ?? 0;
        }

        // Unset, ML.NET chooses them from the data.
        void Sdca<TOptions, TTransformer, TModel>(SdcaTrainerBase<TOptions, TTransformer, TModel>.OptionsBase options)
            where TOptions : SdcaTrainerBase<TOptions, TTransformer, TModel>.OptionsBase, new()
            where TTransformer : ISingleFeaturePredictionTransformer<TModel>
            where TModel : class
        {
            options.NumberOfThreads = 1;
            options.MaximumNumberOfIterations = Int("maximumNumberOfIterations");
            options.L1Regularization = (float?)Double("l1Regularization");
            options.L2Regularization = (float?)Double("l2Regularization");
        }

        void Lbfgs(LbfgsLogisticRegressionBinaryTrainer.Options options)
        {
            options.NumberOfThreads = 1;
            options.L1Regularization = (float?)Double("l1Regularization") ?? options.L1Regularization;
            options.L2Regularization = (float?)Double("l2Regularization") ?? options.L2Regularization;
            options.MaximumNumberOfIterations = Int("maximumNumberOfIterations") ?? options.MaximumNumberOfIterations;
        }

        var regression = ml.Regression.Trainers;
        var binary = ml.BinaryClassification.Trainers;
        var multiclass = ml.MulticlassClassification.Trainers;
        return (task, algorithm) switch
        {
            (MlTask.Regression, TrainingAlgorithm.FastTree) => regression.FastTree(Options(new FastTreeRegressionTrainer.Options(), Tree)),
            (MlTask.BinaryClassification, TrainingAlgorithm.FastTree) => binary.FastTree(Options(new FastTreeBinaryTrainer.Options(), Tree)),
            (MlTask.Regression, TrainingAlgorithm.LightGbm) => regression.LightGbm(Options(new LightGbmRegressionTrainer.Options
                { EvaluationMetric = LightGbmRegressionTrainer.Options.EvaluateMetricType.RootMeanSquaredError }, LightGbm)),
            (MlTask.BinaryClassification, TrainingAlgorithm.LightGbm) => binary.LightGbm(Options(new LightGbmBinaryTrainer.Options
                { EvaluationMetric = LightGbmBinaryTrainer.Options.EvaluateMetricType.Logloss }, LightGbm)),
            (MlTask.MulticlassClassification, TrainingAlgorithm.LightGbm) => multiclass.LightGbm(Options(new LightGbmMulticlassTrainer.Options
                { EvaluationMetric = LightGbmMulticlassTrainer.Options.EvaluateMetricType.LogLoss }, LightGbm)),
            (MlTask.Regression, TrainingAlgorithm.Sdca) => regression.Sdca(Options(new SdcaRegressionTrainer.Options(), Sdca)),
            (MlTask.BinaryClassification, TrainingAlgorithm.Sdca) =>
                binary.SdcaLogisticRegression(Options(new SdcaLogisticRegressionBinaryTrainer.Options(), Sdca)),
            (MlTask.MulticlassClassification, TrainingAlgorithm.Sdca) =>
                multiclass.SdcaMaximumEntropy(Options(new SdcaMaximumEntropyMulticlassTrainer.Options(), Sdca)),
            (MlTask.BinaryClassification, TrainingAlgorithm.LogisticRegression) =>
                binary.LbfgsLogisticRegression(Options(new LbfgsLogisticRegressionBinaryTrainer.Options(), Lbfgs)),
            _ => throw new TrainingException(TrainingFailureReason.UnknownAlgorithm,
                $"Algorithm {algorithm} is not available for {task}; allowed: {string.Join(", ", AlgorithmCatalog.AllowedFor(task))}."),
        };
    }
}
