using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
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
            options.EarlyStoppingRound = Int(AlgorithmCatalog.EarlyStoppingRounds) ?? 0;
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
                    $"Algorithm {algorithm} is not available for {task}; allowed: {string.Join(", ", AlgorithmCatalog.AllowedFor(task))}.");
        }
    }
}
