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

    // Plain values, no object per prediction: a ring of references to short-lived objects would keep each of them alive
    // into the oldest generation (and make every young collection scan the ring), which costs a busy server dearly.
    private readonly Slot[] recent = new Slot[RememberedPredictions];
    private readonly Lock gate = new();
    private readonly double[] errors = new double[Window];
    private int count;
    private int next;

    public void Remember(long firstId, Prediction[] predictions)
    {
        for (var i = 0; i < predictions.Length; i++)
        {
            var id = firstId + i;
            ref var slot = ref recent[id & (RememberedPredictions - 1)];
            // The id goes last (and is cleared first): a reader that sees the same id before and after reading the
            // values has read values that belong to it.
            Volatile.Write(ref slot.Id, 0);
            Interlocked.MemoryBarrier();
            slot.Score = predictions[i].Score;
            slot.Label = predictions[i].PredictedLabel;
            Volatile.Write(ref slot.Id, id);
        }
    }

    /// <summary>The remembered prediction (its score and predicted label) of id counter <paramref name="id"/>.</summary>
    public bool TryFind(long id, out Prediction prediction)
    {
        ref var slot = ref recent[id & (RememberedPredictions - 1)];
        var before = Volatile.Read(ref slot.Id);
        var score = slot.Score;
        var label = slot.Label;
        Interlocked.MemoryBarrier();
        var found = before == id && Volatile.Read(ref slot.Id) == id;
        prediction = found ? new Prediction(score, label) : null!;
        return found;
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

    private struct Slot
    {
        public long Id;
        public double Score;
        public string? Label;
    }
}
