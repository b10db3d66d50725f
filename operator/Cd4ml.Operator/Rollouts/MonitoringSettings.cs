using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// spec.monitoring with the defaults filled in: where the model servers log predictions and feedback (the
/// Deployment's own prefix, else the platform's <c>monitoring.logUri</c> followed by <c>&lt;namespace&gt;/&lt;deployment&gt;/</c>),
/// the share of requests they log, and how the operator watches drift.
/// </summary>
public sealed record MonitoringSettings(string? LogUri, double LogSampleRate, double DriftMax, TimeSpan Window, TimeSpan CheckInterval)
{
    public const double DefaultDriftMax = 0.2;
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(1);
    public static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromMinutes(1);

    /// <summary>Null when the Deployment has no spec.monitoring: nothing is logged and drift is not watched.</summary>
    public static MonitoringSettings? From(ModelDeployment owner, PlatformDefaults defaults)
    {
        if (owner.Spec.Monitoring is not { } spec)
        {
            return null;
        }

        var logUri = spec.LogUri is { Length: > 0 } own ? own
            : defaults.MonitoringLogUri is { Length: > 0 } platform
                ? $"{platform.TrimEnd('/')}/{owner.Metadata.NamespaceProperty}/{owner.Metadata.Name}/"
                : null;
        var checkInterval = DurationText.ParseOr(spec.Drift?.CheckInterval, DefaultCheckInterval);
        return new MonitoringSettings(logUri, spec.LogSampleRate ?? 0, spec.Drift?.Max ?? DefaultDriftMax,
            DurationText.ParseOr(spec.Drift?.Window, DefaultWindow),
            checkInterval <= TimeSpan.Zero ? DefaultCheckInterval : checkInterval);
    }
}
