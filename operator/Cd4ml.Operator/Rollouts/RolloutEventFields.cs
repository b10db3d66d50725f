using System.Globalization;
using k8s.Models;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// The machine-readable facts of a rollout event (RolloutStarted, StepCompleted, Promoted, RolledBack), carried as
/// annotations on the core/v1 Event next to its message, so programs such as the dashboard never parse the wording
/// meant for people. <see cref="Step"/> counts from 0 like status.currentStep; <see cref="Weight"/> is the canary's
/// weight once the event happened (0 when a rollout starts or is rolled back, 100 when promoted).
/// </summary>
public sealed record RolloutEventFields(string Version, int Weight, int? Step = null)
{
    public const string VersionAnnotation = "cd4ml.io/version";
    public const string WeightAnnotation = "cd4ml.io/weight";
    public const string StepAnnotation = "cd4ml.io/step";

    public IReadOnlyDictionary<string, string> ToAnnotations()
    {
        var annotations = new Dictionary<string, string>
        {
            [VersionAnnotation] = Version,
            [WeightAnnotation] = Weight.ToString(CultureInfo.InvariantCulture),
        };
        if (Step is { } step)
        {
            annotations[StepAnnotation] = step.ToString(CultureInfo.InvariantCulture);
        }

        return annotations;
    }

    /// <summary>The fields an Event carries, or null when it has none (written before they existed, or by someone else).</summary>
    public static RolloutEventFields? Of(Corev1Event e)
    {
        var annotations = e.Metadata?.Annotations;
        if (annotations is null
            || !annotations.TryGetValue(VersionAnnotation, out var version) || string.IsNullOrEmpty(version)
            || !annotations.TryGetValue(WeightAnnotation, out var weightText) || !TryParse(weightText, out var weight)
            || weight is < 0 or > 100)
        {
            return null;
        }

        int? step = annotations.TryGetValue(StepAnnotation, out var stepText) && TryParse(stepText, out var index) && index >= 0
            ? index
            : null;
        return new RolloutEventFields(version, weight, step);
    }

    private static bool TryParse(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
