using System.Collections.Frozen;
using Cd4ml.Training;
using Cd4ml.Training.Scoring;

namespace Cd4ml.Serving;

/// <summary>
/// Live inputs and predictions against the training profile (profile.json). Every scored row adds one to a bucket per
/// compared column (<see cref="ColumnProfile"/>: missing, then the training bins or top values and "other"); the
/// window is a ring of <see cref="Slices"/> count arrays, each covering a tenth of it, and <see cref="Rotate"/> (a
/// timer) replaces the oldest with an empty one, so memory is fixed (slices × buckets counters) and old traffic ages
/// out. The request path only looks up buckets (a binary search on the edges, or a dictionary lookup) and does
/// interlocked increments on the current slice; the population stability index is computed when metrics are scraped.
/// </summary>
internal sealed class DriftMonitor : IDisposable
{
    public const int Slices = 10;

    private readonly Compared[] features;
    private readonly Compared prediction;
    private readonly int counters;
    private readonly long[][] ring;
    private readonly ITimer? timer;
    private int newest;
    private volatile long[] current;

    /// <param name="window">How far back live rows count; the ring rotates every tenth of it.</param>
    /// <param name="skipped">Profiled features that are not compared, each with the reason.</param>
    /// <exception cref="InvalidDataException">The profile is inconsistent (a distribution's frequencies do not fit its bins).</exception>
    public DriftMonitor(TrainingProfile profile, IReadOnlyList<ColumnDefinition> modelFeatures, TimeSpan window, TimeProvider? time,
        out IReadOnlyList<string> skipped)
    {
        var notes = new List<string>();
        var compared = new List<Compared>();
        var offset = 1; // counter 0 of each slice counts rows
        foreach (var column in profile.Features)
        {
            var feature = modelFeatures.Select((f, i) => (f, i)).FirstOrDefault(x => x.f.Name == column.Name);
            if (feature.f is null)
            {
                notes.Add($"'{column.Name}' is not a feature of the model");
            }
            else if (feature.f.Type != column.Type)
            {
                notes.Add($"'{column.Name}' is {feature.f.Type} in the model but {column.Type} in the profile");
            }
            else if (column.HasDistribution && column.Frequencies.Count > 0)
            {
                compared.Add(new Compared(column, feature.i, offset));
                offset += column.BucketCount;
            }
        }

        features = [.. compared];
        prediction = new Compared(profile.Prediction, -1, offset);
        counters = offset + profile.Prediction.BucketCount;
        ring = new long[Slices][];
        for (var i = 0; i < Slices; i++)
        {
            ring[i] = new long[counters];
        }

        current = ring[0];
        skipped = notes;
        if (time is not null)
        {
            var slice = window / Slices;
            timer = time.CreateTimer(_ => Rotate(), null, slice, slice);
        }
    }

    /// <summary>The compared features, in profile order.</summary>
    public IReadOnlyList<string> Features => features.Select(f => f.Profile.Name).ToArray();

    /// <summary>Counts the rows of one scored request. Thread-safe, lock-free.</summary>
    public void Observe(ScoringInput input, Prediction[] predictions)
    {
        var counts = current;
        Interlocked.Add(ref counts[0], predictions.Length);
        for (var row = 0; row < predictions.Length; row++)
        {
            foreach (var feature in features)
            {
                var bucket = feature.Edges is { } edges
                    ? ColumnProfile.BucketOf(input.NumberOf(row, feature.Index), edges)
                    : feature.BucketOf(input.TextOf(row, feature.Index));
                Interlocked.Increment(ref counts[feature.Offset + bucket]);
            }

            Interlocked.Increment(ref counts[prediction.Offset + prediction.BucketOf(predictions[row])]);
        }
    }

    /// <summary>Starts a new slice; the oldest one's counts leave the window.</summary>
    public void Rotate()
    {
        newest = (newest + 1) % Slices;
        var fresh = new long[counters];
        ring[newest] = fresh;
        current = fresh;
    }

    /// <summary>Rows in the window, the PSI of each compared feature (in <see cref="Features"/> order) and of the predictions.</summary>
    public (long Rows, double[] Features, double Prediction) Measure()
    {
        var totals = new long[counters];
        foreach (var slice in ring)
        {
            for (var i = 0; i < counters; i++)
            {
                totals[i] += Volatile.Read(ref slice[i]);
            }
        }

        return (totals[0], features.Select(f => f.Stability(totals)).ToArray(), prediction.Stability(totals));
    }

    public void Dispose() => timer?.Dispose();

    /// <summary>One compared column: where its buckets start in a slice, and how a value finds its bucket.</summary>
    private sealed class Compared
    {
        private readonly FrozenDictionary<string, int>? values;
        private readonly double[] expected;

        public Compared(ColumnProfile profile, int index, int offset)
        {
            var bins = profile.Edges?.Count ?? profile.Values?.Count
                ?? throw new InvalidDataException($"column '{profile.Name}' has neither edges nor values to compare with.");
            if (profile.Frequencies.Count != bins + 1)
            {
                throw new InvalidDataException($"column '{profile.Name}' has {profile.Frequencies.Count} frequencies for {bins} {(profile.Edges is null ? "values" : "edges")}; expected {bins + 1}.");
            }

            if (profile.Edges is { } edges && edges.Zip(edges.Skip(1)).Any(pair => !(pair.First < pair.Second)))
            {
                throw new InvalidDataException($"column '{profile.Name}': edges must be strictly ascending.");
            }

            Profile = profile;
            Index = index;
            Offset = offset;
            Edges = profile.Edges?.ToArray();
            values = profile.Values?.Select((v, i) => (v, i)).ToFrozenDictionary(x => x.v, x => x.i + 1, StringComparer.Ordinal);
            expected = profile.ExpectedShares();
        }

        public ColumnProfile Profile { get; }

        /// <summary>The model feature's index in the scoring input (-1 for the prediction).</summary>
        public int Index { get; }

        public int Offset { get; }

        public double[]? Edges { get; }

        public int BucketOf(string? text) => ColumnValues.IsNull(text) ? 0 : values!.GetValueOrDefault(text!, expected.Length - 1);

        public int BucketOf(Prediction prediction) => Profile.Name switch
        {
            ColumnProfile.ProbabilityColumn => ColumnProfile.BucketOf(prediction.Probability ?? double.NaN, Edges!),
            ColumnProfile.PredictedLabelColumn => BucketOf(prediction.PredictedLabel),
            _ => ColumnProfile.BucketOf(prediction.Score, Edges!),
        };

        public double Stability(long[] totals) => PopulationStability.Index(expected, totals.AsSpan(Offset, expected.Length));
    }
}

/// <summary>
/// The population stability index of observed counts against expected shares:
/// <c>PSI = Σᵢ (oᵢ − eᵢ) · ln(oᵢ / eᵢ)</c> over the buckets, where <c>oᵢ</c> is the observed share and <c>eᵢ</c> the
/// expected one, each smoothed as <c>(p + ε) / (1 + k·ε)</c> with <c>ε = 1e-4</c> and <c>k</c> buckets, so an empty
/// bucket on either side gives a large but finite term. 0 means the same distribution; by common rule of thumb below
/// 0.1 is stable, 0.1–0.25 a moderate shift, above 0.25 a major one.
/// </summary>
internal static class PopulationStability
{
    public const double Epsilon = 1e-4;

    public static double Index(ReadOnlySpan<double> expected, ReadOnlySpan<long> observed)
    {
        long total = 0;
        foreach (var count in observed)
        {
            total += count;
        }

        if (total == 0)
        {
            return 0;
        }

        var scale = 1 + expected.Length * Epsilon;
        var index = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var e = (expected[i] + Epsilon) / scale;
            var o = ((double)observed[i] / total + Epsilon) / scale;
            index += (o - e) * Math.Log(o / e);
        }

        return index;
    }
}
