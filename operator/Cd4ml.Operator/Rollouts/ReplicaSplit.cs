namespace Cd4ml.Operator.Rollouts;

/// <summary>How many pods each track runs so that the canary gets about <c>weight</c> percent of the traffic.</summary>
public readonly record struct ReplicaSplit(int Stable, int Canary)
{
    /// <summary>
    /// Canary = ceil(replicas × weight / 100), at least one pod when weight &gt; 0; stable takes the rest, but keeps
    /// one pod while the weight is below 100 so the stable version never stops serving during a rollout.
    /// </summary>
    public static ReplicaSplit For(int replicas, int weight)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(replicas);
        weight = Math.Clamp(weight, 0, 100);
        if (weight == 0 || replicas == 0)
        {
            return new ReplicaSplit(replicas, 0);
        }

        var canary = Math.Max(1, (int)Math.Ceiling(replicas * weight / 100.0));
        var stable = weight == 100 ? 0 : Math.Max(1, replicas - canary);
        return new ReplicaSplit(stable, canary);
    }

    /// <summary>The canary's share of the pods in percent, rounded: its share of traffic when pods split it.</summary>
    public int CanaryPercent => Stable + Canary == 0
        ? 0
        : (int)Math.Round(100.0 * Canary / (Stable + Canary), MidpointRounding.AwayFromZero);

    /// <summary>The fewest replicas, at least <paramref name="replicas"/>, whose split gives exactly <paramref name="weight"/> percent; null above 100.</summary>
    public static int? ReplicasFor(int weight, int replicas)
    {
        for (var candidate = Math.Max(1, replicas); candidate <= 100; candidate++)
        {
            if (For(candidate, weight).CanaryPercent == weight)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// With an HTTPRoute splitting traffic, pod counts need not mirror the weight: stable keeps all
    /// <paramref name="replicas"/> (it can take 100% back at once) and the canary gets ceil(replicas × weight / 100),
    /// at least one pod when weight &gt; 0 (none when replicas is 0).
    /// </summary>
    public static ReplicaSplit ForRoutedTraffic(int replicas, int weight)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(replicas);
        weight = Math.Clamp(weight, 0, 100);
        var canary = weight == 0 || replicas == 0 ? 0 : Math.Max(1, (int)Math.Ceiling(replicas * weight / 100.0));
        return new ReplicaSplit(replicas, canary);
    }

    /// <summary>
    /// With an HPA owning the stable track, its <paramref name="stable"/> pods stay as they are and the canary follows
    /// the step's weight of them: with an HTTPRoute ceil(stable × weight / 100); by pod count enough pods for about
    /// <paramref name="weight"/> percent of all of them, ceil(stable × weight / (100 − weight)), at most as many as
    /// stable (the HPA keeps at least one stable pod, so 100% is not reachable by pod count).
    /// </summary>
    public static ReplicaSplit ForAutoscaled(int stable, int weight, bool routed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stable);
        weight = Math.Clamp(weight, 0, 100);
        if (weight == 0 || stable == 0)
        {
            return new ReplicaSplit(stable, 0);
        }

        if (routed)
        {
            return ForRoutedTraffic(stable, weight);
        }

        var canary = weight == 100 ? stable : (int)Math.Ceiling(stable * weight / (100.0 - weight));
        return new ReplicaSplit(stable, Math.Clamp(canary, 1, stable));
    }
}
