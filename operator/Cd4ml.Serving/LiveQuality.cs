using Cd4ml.Training;

namespace Cd4ml.Serving;

/// <summary>
/// Live model quality from feedback. Logged predictions are remembered by id in a fixed ring (the slot of id counter
/// <c>c</c> is <c>c mod 65,536</c>, so memory is bounded and a prediction is joinable until 65,536 newer ids were
/// issued); feedback joined to one adds its error to a sliding window of the last 1,000 joined rows, from which
/// RMSE and MAE (regression) or accuracy (classification) are computed.
/// </summary>
internal sealed class LiveQuality
{
    public const int RememberedPredictions = 1 << 16;
    public const int Window = 1000;

    private readonly Remembered?[] recent = new Remembered?[RememberedPredictions];
    private readonly Lock gate = new();
    private readonly double[] errors = new double[Window];
    private int count;
    private int next;

    public void Remember(long firstId, Prediction[] predictions)
    {
        for (var i = 0; i < predictions.Length; i++)
        {
            var id = firstId + i;
            recent[id & (RememberedPredictions - 1)] = new Remembered(id, predictions[i]);
        }
    }

    public bool TryFind(long id, out Prediction prediction)
    {
        var entry = Volatile.Read(ref recent[id & (RememberedPredictions - 1)]);
        prediction = entry?.Prediction!;
        return entry is not null && entry.Id == id;
    }

    /// <summary>
    /// Adds joined rows (prediction, true label) and returns the window's quality: (RMSE, MAE) for regression, where
    /// the label is a number; (accuracy, NaN) for classification, where labels compare as text with the predicted label.
    /// </summary>
    public (double Primary, double Secondary) Add(bool regression, IEnumerable<(Prediction Prediction, string Label)> joined)
    {
        lock (gate)
        {
            foreach (var (prediction, label) in joined)
            {
                errors[next] = regression
                    ? prediction.Score - double.Parse(label, System.Globalization.CultureInfo.InvariantCulture)
                    : string.Equals(prediction.PredictedLabel, label, StringComparison.Ordinal) ? 1 : 0;
                next = (next + 1) % Window;
                count = Math.Min(count + 1, Window);
            }

            var window = errors.AsSpan(0, count);
            if (!regression)
            {
                return (Sum(window, e => e) / count, double.NaN);
            }

            return (Math.Sqrt(Sum(window, e => e * e) / count), Sum(window, Math.Abs) / count);
        }
    }

    private static double Sum(ReadOnlySpan<double> values, Func<double, double> map)
    {
        var sum = 0.0;
        foreach (var value in values)
        {
            sum += map(value);
        }

        return sum;
    }

    private sealed record Remembered(long Id, Prediction Prediction);
}
