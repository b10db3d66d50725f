namespace Cd4ml.Training;

/// <summary>
/// One model output. Regression: <see cref="Score"/> is the predicted value. Binary: <see cref="PredictedLabel"/>
/// is "true"/"false", <see cref="Probability"/> is P(true), <see cref="Score"/> the raw margin. Multiclass:
/// <see cref="PredictedLabel"/> is the class, <see cref="Probability"/> (and <see cref="Score"/>) its probability,
/// <see cref="ClassProbabilities"/> all of them.
/// </summary>
public sealed record Prediction(
    double Score,
    string? PredictedLabel = null,
    double? Probability = null,
    IReadOnlyDictionary<string, double>? ClassProbabilities = null);
