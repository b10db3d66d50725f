using System.Globalization;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Entities;

namespace Cd4ml.Operator.Training;

public enum RetrainAction
{
    /// <summary>Nothing to do: the Deployment is not drifting, or an attempt has already started since it began to.</summary>
    None,

    /// <summary>Start a new attempt now.</summary>
    Start,

    /// <summary>The Deployment drifts but a loop guard holds the attempt back until <see cref="RetrainVerdict.NotBefore"/>.</summary>
    Defer,
}

/// <param name="Reason">For <see cref="RetrainAction.Defer"/>: MinInterval or MaxPerDay.</param>
public sealed record RetrainVerdict(RetrainAction Action, string Message, DateTime? NotBefore = null, string? Reason = null);

/// <summary>
/// retrainOn.drift: whether a finished run starts a new attempt because the Deployment it watches drifts. Pure: the
/// caller passes the Deployment's Drifting condition, the run's attempt history and the time.
/// </summary>
public static class RetrainDecision
{
    /// <summary><see cref="AttemptRecord.Trigger"/> of an attempt started because the watched Deployment drifted.</summary>
    public const string DriftTrigger = "Drift";
    public const string DriftingCondition = "Drifting";
    public const string MinIntervalReason = "MinInterval";
    public const string MaxPerDayReason = "MaxPerDay";

    public static readonly TimeSpan DefaultMinInterval = TimeSpan.FromHours(1);
    public const int DefaultMaxPerDay = 3;
    public static readonly TimeSpan Day = TimeSpan.FromHours(24);

    /// <param name="drifting">The watched Deployment's Drifting condition, or null (no such condition or no Deployment).</param>
    /// <param name="history">The run's attempts (status.history); the drift-triggered ones count against maxPerDay.</param>
    public static RetrainVerdict Decide(DriftTrigger trigger, Condition? drifting, IReadOnlyList<AttemptRecord> history, DateTime now)
    {
        var deployment = trigger.Deployment;
        if (drifting?.Status != Condition.True)
        {
            return new RetrainVerdict(RetrainAction.None, $"Deployment {deployment} is not drifting.");
        }

        // An attempt that started after the drift began has already trained on it (or was started by it).
        var since = drifting.LastTransitionTime?.ToUniversalTime() ?? DateTime.MinValue;
        var lastStart = history.Select(h => h.StartTime?.ToUniversalTime()).Max();
        if (lastStart >= since)
        {
            return new RetrainVerdict(RetrainAction.None,
                $"Deployment {deployment} drifts since {Format(since)}; attempt started {Format(lastStart.Value)} already covers it.");
        }

        var why = $"Deployment {deployment} is drifting: {drifting.Message}";
        var minInterval = MinInterval(trigger);
        var maxPerDay = trigger.MaxPerDay ?? DefaultMaxPerDay;
        var recent = history
            .Where(h => h.Trigger == DriftTrigger && h.StartTime?.ToUniversalTime() > now - Day)
            .Select(h => h.StartTime!.Value.ToUniversalTime())
            .Order()
            .ToList();

        DateTime? notBefore = null;
        string? reason = null;
        var guards = new List<string>();
        if (lastStart is { } previous && previous + minInterval > now)
        {
            notBefore = previous + minInterval;
            reason = MinIntervalReason;
            guards.Add($"the previous attempt started {Format(previous)} (retrainOn.drift.minInterval {trigger.MinInterval ?? "1h"})");
        }

        if (recent.Count >= maxPerDay)
        {
            // The oldest of the attempts that fill the day's budget must leave the 24-hour window first.
            var freed = recent[recent.Count - maxPerDay] + Day;
            if (notBefore is null || freed > notBefore)
            {
                notBefore = freed;
                reason = MaxPerDayReason;
            }

            guards.Add($"{recent.Count} drift-triggered attempts in the last 24h (retrainOn.drift.maxPerDay {maxPerDay})");
        }

        return notBefore is { } next
            ? new RetrainVerdict(RetrainAction.Defer, $"{why}; next attempt allowed at {Format(next)}: {string.Join(" and ", guards)}.", next, reason)
            : new RetrainVerdict(RetrainAction.Start, why);
    }

    public static TimeSpan MinInterval(DriftTrigger trigger) =>
        trigger.MinInterval is { } text && DurationText.TryParse(text) is { } interval ? interval : DefaultMinInterval;

    private static string Format(DateTime time) => time.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
