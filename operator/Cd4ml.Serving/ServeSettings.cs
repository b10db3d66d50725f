using System.Globalization;
using System.Net;
using Cd4ml.Artifacts;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Serving;

/// <summary>The settings <see cref="ServeSettings.FromEnvironment"/> refuses, naming the variable.</summary>
public sealed class ServeSettingsException(string message) : Exception(message);

/// <summary>
/// The serving contract: what a model server pod gets in its environment. The operator's Deployment builder calls
/// <see cref="ToEnvironment"/>, the server <see cref="FromEnvironment"/>.
/// </summary>
public sealed record ServeSettings
{
    public const string ModelUriVariable = "CD4ML_MODEL_URI";
    public const string ModelSha256Variable = "CD4ML_MODEL_SHA256";
    public const string ModelNameVariable = "CD4ML_MODEL_NAME";
    public const string ModelVersionVariable = "CD4ML_MODEL_VERSION";
    public const string TrackVariable = "CD4ML_TRACK";
    public const string ListenHostVariable = "CD4ML_LISTEN_HOST";
    public const string PortVariable = "CD4ML_PORT";
    public const string SkewToleranceVariable = "CD4ML_SKEW_TOLERANCE";
    public const string FaultErrorRateVariable = "CD4ML_FAULT_ERROR_RATE";
    public const string FaultLatencyVariable = "CD4ML_FAULT_LATENCY";
    public const string ShutdownDelayVariable = "CD4ML_SHUTDOWN_DELAY";
    public const string AdminVariable = "CD4ML_ADMIN";
    public const string DeploymentVariable = "CD4ML_DEPLOYMENT";
    public const string LogLevelVariable = "CD4ML_LOG_LEVEL";
    public const string AccessLogSampleVariable = "CD4ML_ACCESS_LOG_SAMPLE";
    public const string LogSampleRateVariable = "CD4ML_LOG_SAMPLE_RATE";
    public const string LogUriVariable = "CD4ML_LOG_URI";
    public const string LogFlushIntervalVariable = "CD4ML_LOG_FLUSH_INTERVAL";
    public const string DriftWindowVariable = "CD4ML_DRIFT_WINDOW";
    public const string DriftMinimumRowsVariable = "CD4ML_DRIFT_MIN_ROWS";

    public const string DefaultListenHost = "0.0.0.0";
    public const int DefaultPort = 8080;
    public const double DefaultSkewTolerance = 0.05;
    public static readonly TimeSpan DefaultLogFlushInterval = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultDriftWindow = TimeSpan.FromMinutes(10);
    public const int DefaultDriftMinimumRows = 100;

    /// <summary>The model object, <c>s3://bucket/prefix/model.zip</c>; manifest.json, metrics.json and holdout.csv are its siblings.</summary>
    public required S3Location ModelUri { get; init; }

    /// <summary>Lower-case hex SHA-256 the model.zip must have (the ModelVersion's <c>spec.artifact.sha256</c>).</summary>
    public required string ModelSha256 { get; init; }

    public required string ModelName { get; init; }

    /// <summary>The ModelVersion's name, e.g. <c>sales-3</c>.</summary>
    public required string ModelVersion { get; init; }

    /// <summary>stable or canary: only a metric label.</summary>
    public string Track { get; init; } = "stable";

    public IPAddress ListenHost { get; init; } = IPAddress.Parse(DefaultListenHost);

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>Largest accepted relative difference between recorded and re-scored holdout metrics.</summary>
    public double SkewTolerance { get; init; } = DefaultSkewTolerance;

    public FaultSettings Fault { get; init; } = FaultSettings.None;

    /// <summary>
    /// After SIGTERM, how long the server keeps answering predictions (while /readyz already says 503) before it
    /// closes its listener: the time Services and load balancers need to stop sending it traffic.
    /// </summary>
    public TimeSpan ShutdownDelay { get; init; } = TimeSpan.Zero;

    /// <summary>Maps <c>POST /admin/fault</c>.</summary>
    public bool AdminEnabled { get; init; }

    public S3Settings S3 { get; init; } = new();

    /// <summary>
    /// The cd4ml Deployment this server belongs to: metric label <c>deployment</c>, so that two Deployments serving the
    /// same model version in one namespace are told apart. Empty when not set.
    /// </summary>
    public string Deployment { get; init; } = "";

    /// <summary>
    /// Minimum level of the server's own log lines; null leaves it to the standard configuration
    /// (<c>Logging__LogLevel__Default</c>, Information when unset). ASP.NET Core's per-request categories stay at Warning.
    /// </summary>
    public LogLevel? LogLevel { get; init; }

    /// <summary>Share (0..1) of requests written to the access log, one line each; 0 (the default) writes none.</summary>
    public double AccessLogSample { get; init; }

    /// <summary>Share (0..1) of /predict requests whose rows are logged to <see cref="LogUri"/>; 0 (the default) logs none.</summary>
    public double LogSampleRate { get; init; }

    /// <summary>The prefix (<c>s3://bucket/prefix/</c>) prediction logs and feedback are written under; required when <see cref="LogSampleRate"/> is above 0.</summary>
    public S3Location? LogUri { get; init; }

    /// <summary>Logged rows are uploaded at least this often (and whenever 10,000 rows wait).</summary>
    public TimeSpan LogFlushInterval { get; init; } = DefaultLogFlushInterval;

    /// <summary>
    /// Live rows count towards drift (against profile.json) for this long; 0 turns drift off. The window moves in tenths
    /// of it.
    /// </summary>
    public TimeSpan DriftWindow { get; init; } = DefaultDriftWindow;

    /// <summary>Drift series are exported only while the window holds at least this many rows.</summary>
    public int DriftMinimumRows { get; init; } = DefaultDriftMinimumRows;

    /// <summary>The folder holding model.zip and its siblings.</summary>
    public S3Location ArtifactPrefix => new(ModelUri.Bucket, ModelUri.Key[..(ModelUri.Key.LastIndexOf('/') + 1)]);

    public static ServeSettings FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        string? Get(string name) => environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value.Trim()
            : null;
        string Required(string name) => Get(name) ?? throw new ServeSettingsException($"{name} is required.");

        var uriText = Required(ModelUriVariable);
        if (!S3Location.TryParse(uriText, out var uri) || uri.IsPrefix)
        {
            throw new ServeSettingsException($"{ModelUriVariable} must name the model object, e.g. s3://bucket/runs/sales-3/model.zip; got '{uriText}'.");
        }

        var sha = Required(ModelSha256Variable).ToLowerInvariant();
        sha = sha.StartsWith("sha256:", StringComparison.Ordinal) ? sha["sha256:".Length..] : sha;
        if (sha.Length != 64 || !sha.All(char.IsAsciiHexDigit))
        {
            throw new ServeSettingsException($"{ModelSha256Variable} must be 64 hex digits (optionally prefixed sha256:); got '{Get(ModelSha256Variable)}'.");
        }

        var hostText = Get(ListenHostVariable) ?? DefaultListenHost;
        if (!IPAddress.TryParse(hostText, out var host))
        {
            throw new ServeSettingsException($"{ListenHostVariable} must be an IP address such as 0.0.0.0 or the pod IP; got '{hostText}'.");
        }

        var port = DefaultPort;
        if (Get(PortVariable) is { } portText && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535))
        {
            throw new ServeSettingsException($"{PortVariable} must be a port number (0-65535); got '{portText}'.");
        }

        var tolerance = Number(Get(SkewToleranceVariable), SkewToleranceVariable, DefaultSkewTolerance, 0, double.MaxValue);
        var errorRate = Number(Get(FaultErrorRateVariable), FaultErrorRateVariable, 0, 0, 1);
        var latencyText = Get(FaultLatencyVariable);
        var latency = TimeSpan.Zero;
        if (latencyText is not null && !FaultSettings.TryParseDuration(latencyText, out latency))
        {
            throw new ServeSettingsException($"{FaultLatencyVariable} must be a duration such as 200ms or 1.5s; got '{latencyText}'.");
        }

        var delayText = Get(ShutdownDelayVariable);
        var shutdownDelay = TimeSpan.Zero;
        if (delayText is not null && !FaultSettings.TryParseDuration(delayText, out shutdownDelay))
        {
            throw new ServeSettingsException($"{ShutdownDelayVariable} must be a duration such as 5s; got '{delayText}'.");
        }

        var logLevelText = Get(LogLevelVariable);
        LogLevel? logLevel = null;
        if (logLevelText is not null)
        {
            logLevel = Enum.TryParse<LogLevel>(logLevelText, ignoreCase: true, out var level) && Enum.IsDefined(level)
                ? level
                : throw new ServeSettingsException(
                    $"{LogLevelVariable} must be one of {string.Join(", ", Enum.GetNames<LogLevel>())}; got '{logLevelText}'.");
        }

        var logSampleRate = Number(Get(LogSampleRateVariable), LogSampleRateVariable, 0, 0, 1);
        S3Location? logUri = null;
        if (Get(LogUriVariable) is { } logUriText)
        {
            logUri = S3Location.TryParse(logUriText, out var parsed)
                ? parsed.AsPrefix()
                : throw new ServeSettingsException($"{LogUriVariable} must be an S3 prefix such as s3://logs/cd4ml/; got '{logUriText}'.");
        }

        if (logSampleRate > 0 && logUri is null)
        {
            throw new ServeSettingsException($"{LogSampleRateVariable} is {logSampleRate}: {LogUriVariable} must then name where the logs go, e.g. s3://logs/cd4ml/.");
        }

        var flushText = Get(LogFlushIntervalVariable);
        var logFlushInterval = DefaultLogFlushInterval;
        if (flushText is not null && (!FaultSettings.TryParseDuration(flushText, out logFlushInterval) || logFlushInterval <= TimeSpan.Zero))
        {
            throw new ServeSettingsException($"{LogFlushIntervalVariable} must be a positive duration such as 60s; got '{flushText}'.");
        }

        var windowText = Get(DriftWindowVariable);
        var driftWindow = DefaultDriftWindow;
        if (windowText is not null && (!FaultSettings.TryParseDuration(windowText, out driftWindow) || driftWindow < TimeSpan.FromSeconds(1) && driftWindow != TimeSpan.Zero))
        {
            throw new ServeSettingsException($"{DriftWindowVariable} must be a duration of at least 1s such as 10m or 90s, or 0 to turn drift off; got '{windowText}'.");
        }

        var minimumRowsText = Get(DriftMinimumRowsVariable);
        var driftMinimumRows = DefaultDriftMinimumRows;
        if (minimumRowsText is not null && (!int.TryParse(minimumRowsText, NumberStyles.None, CultureInfo.InvariantCulture, out driftMinimumRows) || driftMinimumRows < 1))
        {
            throw new ServeSettingsException($"{DriftMinimumRowsVariable} must be a whole number of at least 1, e.g. 100; got '{minimumRowsText}'.");
        }

        S3Settings s3;
        try
        {
            s3 = S3Settings.FromEnvironment(environment);
        }
        catch (FormatException e)
        {
            throw new ServeSettingsException(e.Message);
        }

        return new ServeSettings
        {
            ModelUri = uri,
            ModelSha256 = sha,
            ModelName = Required(ModelNameVariable),
            ModelVersion = Required(ModelVersionVariable),
            Track = Get(TrackVariable) ?? "stable",
            ListenHost = host,
            Port = port,
            SkewTolerance = tolerance,
            Fault = new FaultSettings(errorRate, latency),
            ShutdownDelay = shutdownDelay,
            AdminEnabled = Get(AdminVariable) is "1" or "true",
            S3 = s3,
            Deployment = Get(DeploymentVariable) ?? "",
            LogLevel = logLevel,
            AccessLogSample = Number(Get(AccessLogSampleVariable), AccessLogSampleVariable, 0, 0, 1),
            LogSampleRate = logSampleRate,
            LogUri = logUri,
            LogFlushInterval = logFlushInterval,
            DriftWindow = driftWindow,
            DriftMinimumRows = driftMinimumRows,
        };
    }

    /// <summary>The inverse of <see cref="FromEnvironment"/>; defaults are written too, so a pod spec shows them.</summary>
    public IReadOnlyDictionary<string, string> ToEnvironment()
    {
        var environment = new Dictionary<string, string>(S3.ToEnvironment())
        {
            [ModelUriVariable] = ModelUri.ToString(),
            [ModelSha256Variable] = ModelSha256,
            [ModelNameVariable] = ModelName,
            [ModelVersionVariable] = ModelVersion,
            [TrackVariable] = Track,
            [ListenHostVariable] = ListenHost.ToString(),
            [PortVariable] = Port.ToString(CultureInfo.InvariantCulture),
            [SkewToleranceVariable] = SkewTolerance.ToString("R", CultureInfo.InvariantCulture),
        };
        if (Fault.ErrorRate > 0)
        {
            environment[FaultErrorRateVariable] = Fault.ErrorRate.ToString("R", CultureInfo.InvariantCulture);
        }

        if (Fault.Latency > TimeSpan.Zero)
        {
            environment[FaultLatencyVariable] = FaultSettings.FormatDuration(Fault.Latency);
        }

        if (ShutdownDelay > TimeSpan.Zero)
        {
            environment[ShutdownDelayVariable] = FaultSettings.FormatDuration(ShutdownDelay);
        }

        if (AdminEnabled)
        {
            environment[AdminVariable] = "1";
        }

        if (Deployment.Length > 0)
        {
            environment[DeploymentVariable] = Deployment;
        }

        if (LogLevel is { } level)
        {
            environment[LogLevelVariable] = level.ToString();
        }

        if (AccessLogSample > 0)
        {
            environment[AccessLogSampleVariable] = AccessLogSample.ToString("R", CultureInfo.InvariantCulture);
        }

        if (LogSampleRate > 0)
        {
            environment[LogSampleRateVariable] = LogSampleRate.ToString("R", CultureInfo.InvariantCulture);
        }

        if (LogUri is not null)
        {
            environment[LogUriVariable] = LogUri.ToString();
        }

        if (LogFlushInterval != DefaultLogFlushInterval)
        {
            environment[LogFlushIntervalVariable] = FaultSettings.FormatDuration(LogFlushInterval);
        }

        if (DriftWindow != DefaultDriftWindow)
        {
            environment[DriftWindowVariable] = FaultSettings.FormatDuration(DriftWindow);
        }

        if (DriftMinimumRows != DefaultDriftMinimumRows)
        {
            environment[DriftMinimumRowsVariable] = DriftMinimumRows.ToString(CultureInfo.InvariantCulture);
        }

        return environment;
    }

    private static double Number(string? text, string name, double fallback, double min, double max)
    {
        if (text is null)
        {
            return fallback;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new ServeSettingsException($"{name} must be a number between {min} and {(max == double.MaxValue ? "∞" : max)}; got '{text}'.");
    }
}
