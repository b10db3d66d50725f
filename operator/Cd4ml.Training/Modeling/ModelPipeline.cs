using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;
using Microsoft.ML.Transforms;

namespace Cd4ml.Training;

/// <summary>
/// The ML.NET pipeline, in two parts fitted one after the other. The featurizer turns the raw input columns into one
/// float vector: impute (numeric features, mean), one-hot encode (text features), concatenate. The learner trains on
/// that vector: (multiclass: label to key), (linear models: min-max normalize), the trainer, (multiclass: key back to
/// label). The learner is fitted on vectors a <see cref="FeatureEncoder"/> computes from the fitted featurizer, and
/// the saved model is featurizer then learner, so it scores raw input like a single fitted pipeline would.
/// </summary>
internal static class ModelPipeline
{
    public const string FeaturesColumn = "__cd4ml_features";

    /// <summary>
    /// Fits featurizer and learner. <paramref name="hyperparameters"/> are resolved (<see cref="AlgorithmCatalog.Resolve"/>);
    /// with early stopping, a seeded <see cref="AlgorithmCatalog.EarlyStoppingFraction"/> of the training rows decides
    /// when LightGBM stops, and the trees are grown on the rest.
    /// </summary>
    public static FittedPipeline Fit(MLContext ml, ModelInputLayout layout, TrainingAlgorithm algorithm,
        IReadOnlyDictionary<string, string> hyperparameters, int seed, ColumnarDataView train)
    {
        var featurizer = Featurizer(ml, layout).Fit(train);
        var encoder = FeatureEncoder.FromFitted(featurizer, layout, train.Schema);
        var trainer = TrainerFactory.Create(ml, layout.Task, algorithm, hyperparameters, layout.Label.Name, FeaturesColumn, seed);
        var earlyStopping = hyperparameters.TryGetValue(AlgorithmCatalog.EarlyStoppingRounds, out var rounds) && rounds != "0";
        ITransformer model;
        TransformerChain<ITransformer> preparation;
        IDataView empty;
        if (earlyStopping)
        {
            // Early stopping needs no normalizer (LightGBM only), so the preparation (multiclass: label to key, over
            // every training label) fits on the labels alone, and each part is encoded from the raw columns: the
            // whole training set's feature matrix is never held next to the two parts'.
            var labels = new ColumnarDataView(
                [(layout.Label.Name, train.Schema[layout.Label.Name].Type, train.ValuesOf(layout.Label.Name))], checked((int)train.GetRowCount()!.Value));
            preparation = Preparation(ml, layout, algorithm).Fit(labels);
            var (growing, stopping) = EarlyStoppingSplit(checked((int)train.GetRowCount()!.Value), seed);
            var growingRows = preparation.Transform(encoder.Encode(train.Select(growing)));
            var stoppingRows = preparation.Transform(encoder.Encode(train.Select(stopping)));
            empty = encoder.Encode(train.Select([]));
            model = trainer switch
            {
                LightGbmRegressionTrainer regression => regression.Fit(growingRows, stoppingRows),
                LightGbmBinaryTrainer binary => binary.Fit(growingRows, stoppingRows),
                LightGbmMulticlassTrainer multiclass => multiclass.Fit(growingRows, stoppingRows),
                _ => throw new InvalidOperationException($"{algorithm} does not stop early."),
            };
        }
        else
        {
            var encoded = encoder.Encode(train);
            preparation = Preparation(ml, layout, algorithm).Fit(encoded);
            empty = encoded.Select([]);
            model = trainer.Fit(preparation.Transform(encoded));
        }

        var learner = preparation.Append(model);
        if (layout.Task == MlTask.MulticlassClassification)
        {
            learner = learner.Append<ITransformer>(
                ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(learner.Transform(empty)));
        }

        return new FittedPipeline(featurizer.Append(learner), encoder, learner);
    }

    /// <summary>Positions of the rows that grow the trees and of those that decide when to stop.</summary>
    private static (int[] Growing, int[] Stopping) EarlyStoppingSplit(int count, int seed)
    {
        var positions = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(positions);
        var stoppingCount = Math.Max(1, (int)Math.Round(count * AlgorithmCatalog.EarlyStoppingFraction, MidpointRounding.AwayFromZero));
        var stopping = positions[..stoppingCount];
        var growing = positions[stoppingCount..];
        Array.Sort(stopping);
        Array.Sort(growing);
        return (growing, stopping);
    }

    public static IEstimator<ITransformer> Featurizer(MLContext ml, ModelInputLayout layout)
    {
        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        if (layout.NumericFeatureNames.Count > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.ReplaceMissingValues(
                layout.NumericFeatureNames.Select(n => new InputOutputColumnPair(n, n)).ToArray(),
                MissingValueReplacingEstimator.ReplacementMode.Mean));
        }

        foreach (var text in layout.TextFeatureNames)
        {
            pipeline = pipeline.Append(ml.Transforms.Categorical.OneHotEncoding(text, text));
        }

        return pipeline.Append(ml.Transforms.Concatenate(FeaturesColumn, [.. layout.NumericFeatureNames, .. layout.TextFeatureNames]));
    }

    /// <summary>What the learner does before its trainer: (multiclass: label to key), (linear models: min-max normalize).</summary>
    private static EstimatorChain<ITransformer> Preparation(MLContext ml, ModelInputLayout layout, TrainingAlgorithm algorithm)
    {
        var pipeline = new EstimatorChain<ITransformer>();
        if (layout.Task == MlTask.MulticlassClassification)
        {
            pipeline = pipeline.Append<ITransformer>(ml.Transforms.Conversion.MapValueToKey(layout.Label.Name, layout.Label.Name));
        }

        if (algorithm is TrainingAlgorithm.Sdca or TrainingAlgorithm.LogisticRegression)
        {
            pipeline = pipeline.Append<ITransformer>(ml.Transforms.NormalizeMinMax(FeaturesColumn));
        }

        return pipeline;
    }

    /// <summary>Class names in the order of the multiclass Score vector.</summary>
    public static IReadOnlyList<string> ReadClasses(IDataView scored, string labelColumn)
    {
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        var score = scored.Schema["Score"];
        if (score.Annotations.Schema.GetColumnOrNull("SlotNames") is not null)
        {
            score.Annotations.GetValue("SlotNames", ref names);
        }
        else
        {
            scored.Schema[labelColumn].Annotations.GetValue("KeyValues", ref names);
        }

        return names.DenseValues().Select(n => n.ToString()).ToList();
    }

    public static IReadOnlyList<Prediction> ReadPredictions(IDataView scored, MlTask task, IReadOnlyList<string> classes)
    {
        var predictions = new List<Prediction>();
        var schema = scored.Schema;
        switch (task)
        {
            case MlTask.Regression:
            {
                using var cursor = scored.GetRowCursor([schema["Score"]]);
                var getScore = cursor.GetGetter<float>(schema["Score"]);
                float value = 0;
                while (cursor.MoveNext())
                {
                    getScore(ref value);
                    predictions.Add(new Prediction(value));
                }

                break;
            }
            case MlTask.BinaryClassification:
            {
                using var cursor = scored.GetRowCursor([schema["Score"], schema["Probability"], schema["PredictedLabel"]]);
                var getScore = cursor.GetGetter<float>(schema["Score"]);
                var getProbability = cursor.GetGetter<float>(schema["Probability"]);
                var getLabel = cursor.GetGetter<bool>(schema["PredictedLabel"]);
                float value = 0, probability = 0;
                var label = false;
                while (cursor.MoveNext())
                {
                    getScore(ref value);
                    getProbability(ref probability);
                    getLabel(ref label);
                    predictions.Add(new Prediction(value, label ? "true" : "false", probability));
                }

                break;
            }
            default:
            {
                using var cursor = scored.GetRowCursor([schema["Score"], schema["PredictedLabel"]]);
                var getScores = cursor.GetGetter<VBuffer<float>>(schema["Score"]);
                var getLabel = cursor.GetGetter<ReadOnlyMemory<char>>(schema["PredictedLabel"]);
                var scores = default(VBuffer<float>);
                var label = default(ReadOnlyMemory<char>);
                while (cursor.MoveNext())
                {
                    getScores(ref scores);
                    getLabel(ref label);
                    var dense = scores.DenseValues().ToArray();
                    var byClass = new Dictionary<string, double>();
                    for (var i = 0; i < dense.Length && i < classes.Count; i++)
                    {
                        byClass[classes[i]] = dense[i];
                    }

                    var predicted = label.ToString();
                    var probability = byClass.GetValueOrDefault(predicted);
                    predictions.Add(new Prediction(probability, predicted, probability, byClass));
                }

                break;
            }
        }

        return predictions;
    }
}

/// <summary>A fitted pipeline: the model to save (featurizer then learner) and the parts to score encoded rows with.</summary>
internal sealed record FittedPipeline(ITransformer Model, FeatureEncoder Encoder, ITransformer Learner)
{
    /// <summary>What <see cref="Model"/> would output for these rows, without running the featurizer's cursors.</summary>
    public IDataView Score(ColumnarDataView raw) => Learner.Transform(Encoder.Encode(raw));
}
