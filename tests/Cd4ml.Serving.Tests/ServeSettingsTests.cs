using Cd4ml.Training;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Serving.Tests;

public sealed class ServeSettingsTests
{
    private static readonly string Sha = new('a', 64);

    private static Dictionary<string, string?> Minimal() => new()
    {
        [ServeSettings.ModelUriVariable] = "s3://models/runs/sales-3/model.zip",
        [ServeSettings.ModelSha256Variable] = Sha,
        [ServeSettings.ModelNameVariable] = "sales",
        [ServeSettings.ModelVersionVariable] = "sales-3",
    };

    [Test]
    public void FromEnvironment_AppliesTheDocumentedDefaults()
    {
        var settings = ServeSettings.FromEnvironment(Minimal());

        Assert.That(settings.ListenHost.ToString(), Is.EqualTo("0.0.0.0"));
        Assert.That(settings.Port, Is.EqualTo(8080));
        Assert.That(settings.Track, Is.EqualTo("stable"));
        Assert.That(settings.SkewTolerance, Is.EqualTo(0.05));
        Assert.That(settings.Fault, Is.EqualTo(FaultSettings.None));
        Assert.That(settings.AdminEnabled, Is.False);
        Assert.That(settings.ArtifactPrefix.ToString(), Is.EqualTo("s3://models/runs/sales-3/"));
        Assert.That(settings.Deployment, Is.EqualTo(""));
        Assert.That(settings.LogLevel, Is.Null);
        Assert.That(settings.AccessLogSample, Is.EqualTo(0));
        Assert.That((settings.LogSampleRate, settings.LogUri, settings.LogFlushInterval), Is.EqualTo((0.0, (Artifacts.S3Location?)null, TimeSpan.FromSeconds(60))));
        Assert.That((settings.DriftWindow, settings.DriftMinimumRows), Is.EqualTo((TimeSpan.FromMinutes(10), 100)));
    }

    [Test]
    public void ToEnvironment_RoundTripsThroughFromEnvironment()
    {
        var settings = ServeSettings.FromEnvironment(new Dictionary<string, string?>(Minimal())
        {
            [ServeSettings.TrackVariable] = "canary",
            [ServeSettings.ListenHostVariable] = "127.0.1.2",
            [ServeSettings.PortVariable] = "9100",
            [ServeSettings.SkewToleranceVariable] = "0.1",
            [ServeSettings.FaultErrorRateVariable] = "0.25",
            [ServeSettings.FaultLatencyVariable] = "1.5s",
            [ServeSettings.AdminVariable] = "1",
            [ServeSettings.DeploymentVariable] = "checkout",
            [ServeSettings.LogLevelVariable] = "debug",
            [ServeSettings.AccessLogSampleVariable] = "0.01",
            [ServeSettings.LogSampleRateVariable] = "0.5",
            [ServeSettings.LogUriVariable] = "s3://logs/cd4ml",
            [ServeSettings.LogFlushIntervalVariable] = "10s",
            [ServeSettings.DriftWindowVariable] = "30m",
            [ServeSettings.DriftMinimumRowsVariable] = "500",
            ["CD4ML_S3_ENDPOINT"] = "http://127.0.0.1:9000",
        });

        var again = ServeSettings.FromEnvironment(settings.ToEnvironment().ToDictionary(e => e.Key, e => (string?)e.Value));

        Assert.That(again.Fault, Is.EqualTo(new FaultSettings(0.25, TimeSpan.FromMilliseconds(1500))));
        Assert.That((again.Track, again.ListenHost.ToString(), again.Port, again.SkewTolerance, again.AdminEnabled),
            Is.EqualTo(("canary", "127.0.1.2", 9100, 0.1, true)));
        Assert.That(again.S3, Is.EqualTo(settings.S3));
        Assert.That((again.Deployment, again.LogLevel, again.AccessLogSample), Is.EqualTo(("checkout", (LogLevel?)LogLevel.Debug, 0.01)));
        Assert.That((again.LogSampleRate, again.LogUri?.ToString(), again.LogFlushInterval),
            Is.EqualTo((0.5, "s3://logs/cd4ml/", TimeSpan.FromSeconds(10))));
        Assert.That((again.DriftWindow, again.DriftMinimumRows), Is.EqualTo((TimeSpan.FromMinutes(30), 500)));
    }

    [Test]
    public void FromEnvironment_LogSampleRateWithoutLogUri_IsRefusedNamingTheMissingVariable()
    {
        var environment = new Dictionary<string, string?>(Minimal()) { [ServeSettings.LogSampleRateVariable] = "1" };

        var error = Assert.Throws<ServeSettingsException>(() => ServeSettings.FromEnvironment(environment))!;

        Assert.That(error.Message, Does.Contain(ServeSettings.LogUriVariable));
    }

    [TestCase(ServeSettings.ModelUriVariable, "s3://models/runs/sales-3/")]
    [TestCase(ServeSettings.ModelUriVariable, "http://x/model.zip")]
    [TestCase(ServeSettings.ModelSha256Variable, "abc")]
    [TestCase(ServeSettings.ModelNameVariable, "")]
    [TestCase(ServeSettings.ListenHostVariable, "pod.local")]
    [TestCase(ServeSettings.PortVariable, "70000")]
    [TestCase(ServeSettings.SkewToleranceVariable, "-1")]
    [TestCase(ServeSettings.FaultErrorRateVariable, "2")]
    [TestCase(ServeSettings.FaultLatencyVariable, "fast")]
    [TestCase(ServeSettings.LogLevelVariable, "verbose")]
    [TestCase(ServeSettings.AccessLogSampleVariable, "1.5")]
    [TestCase(ServeSettings.DriftWindowVariable, "10 minutes")]
    [TestCase(ServeSettings.DriftWindowVariable, "100ms")]
    [TestCase(ServeSettings.DriftMinimumRowsVariable, "0")]
    public void FromEnvironment_RefusesABadValue_NamingTheVariable(string variable, string value)
    {
        var error = Assert.Throws<ServeSettingsException>(() => ServeSettings.FromEnvironment(new Dictionary<string, string?>(Minimal()) { [variable] = value }));

        Assert.That(error!.Message, Does.Contain(variable));
    }

    [Test]
    public void FromEnvironment_AcceptsASha256DigestPrefix()
    {
        var settings = ServeSettings.FromEnvironment(new Dictionary<string, string?>(Minimal()) { [ServeSettings.ModelSha256Variable] = "sha256:" + Sha.ToUpperInvariant() });

        Assert.That(settings.ModelSha256, Is.EqualTo(Sha));
    }

    [TestCase("200ms", 200)]
    [TestCase("1.5s", 1500)]
    [TestCase("2m", 120_000)]
    [TestCase("0", 0)]
    public void Durations_AreReadInMillisecondsSecondsOrMinutes(string text, int milliseconds)
    {
        Assert.That(FaultSettings.TryParseDuration(text, out var duration), Is.True);
        Assert.That(duration, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
    }
}

public sealed class SkewCheckTests
{
    private static readonly MetricGroup Recorded = new(100, new Dictionary<string, double> { ["rmse"] = 2.0, ["r2"] = 0.0, ["mae"] = 1.0 });

    [Test]
    public void SkewCheck_Passes_WhenTheMetricsAreReproduced()
    {
        Assert.That(SkewCheck.Compare(Recorded, 100, Recorded.Metrics, 0.05), Is.Empty);
    }

    [Test]
    public void SkewCheck_AllowsRelativeDifferencesUpToTheTolerance()
    {
        var observed = new Dictionary<string, double> { ["rmse"] = 2.09, ["r2"] = 0.0, ["mae"] = 0.96 };

        Assert.That(SkewCheck.Compare(Recorded, 100, observed, 0.05), Is.Empty);
    }

    [Test]
    public void SkewCheck_NamesEveryMetricBeyondTheTolerance_WithRecordedAndObservedValues()
    {
        var observed = new Dictionary<string, double> { ["rmse"] = 2.5, ["r2"] = 0.01, ["mae"] = 1.0 };

        var violations = SkewCheck.Compare(Recorded, 100, observed, 0.05);

        Assert.That(violations.Select(v => v.Metric), Is.EqualTo(new[] { "r2", "rmse" }));
        Assert.That(violations[1].ToString(), Does.StartWith("rmse: recorded 2, observed 2.5"));
    }

    [Test]
    public void SkewCheck_Fails_WhenTheRowCountDiffersOrAMetricIsUndefined()
    {
        var violations = SkewCheck.Compare(Recorded, 99, new Dictionary<string, double> { ["rmse"] = 2.0, ["r2"] = 0.0 }, 0.05);

        Assert.That(violations.Select(v => v.ToString()), Is.EqualTo(new[] { "rows: recorded 100, observed 99 (relative difference 0.01)", "mae: recorded 1, observed undefined" }));
    }
}
