using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Events;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>The loop back from production on the Deployment side, on its inputs alone: settings, pod environment, the Drifting condition.</summary>
public sealed class MonitoringPureTests
{
    private static readonly DateTime T0 = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
    private const string Prometheus = "http://prom";

    private static ModelDeployment Owner(MonitoringSpec? monitoring) => new()
    {
        Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = "team-a", Uid = "uid", Generation = 1 },
        Spec = new ModelDeploymentSpec { ModelName = "sales", Monitoring = monitoring },
    };

    private static MonitoringSettings Settings(double max = 0.2) =>
        MonitoringSettings.From(Owner(new MonitoringSpec { Drift = new DriftSpec { Max = max } }), PlatformDefaults.None)!;

    private static ModelDeploymentStatus Serving(string stable = "sales-v1") => new() { StableVersion = stable };

    private static MonitoringReading Reading(double? predictions, params (string Feature, double Psi)[] features) =>
        new([.. features.Select(f => new FeatureDrift { Feature = f.Feature, Value = f.Psi })], predictions, []);

    [Test]
    public void LogUri_DefaultsToThePlatformPrefix_FollowedByNamespaceAndDeployment_AndTheSpecWins()
    {
        var platform = new PlatformDefaults { MonitoringLogUri = "s3://logs/cd4ml/" };

        var fromPlatform = MonitoringSettings.From(Owner(new MonitoringSpec { LogSampleRate = 0.1 }), platform)!;
        var own = MonitoringSettings.From(Owner(new MonitoringSpec { LogUri = "s3://own/sales/" }), platform)!;

        Assert.That(fromPlatform.LogUri, Is.EqualTo("s3://logs/cd4ml/team-a/sales/"));
        Assert.That(fromPlatform.LogSampleRate, Is.EqualTo(0.1));
        Assert.That(own.LogUri, Is.EqualTo("s3://own/sales/"));
        Assert.That(own.LogSampleRate, Is.Zero, "logging off unless a rate is set");
        Assert.That((own.DriftMax, own.Window, own.CheckInterval),
            Is.EqualTo((0.2, TimeSpan.FromHours(1), TimeSpan.FromMinutes(1))));
        Assert.That(MonitoringSettings.From(Owner(new MonitoringSpec()), PlatformDefaults.None)!.LogUri, Is.Null);
        Assert.That(MonitoringSettings.From(Owner(null), platform), Is.Null, "no spec.monitoring: nothing");
    }

    [Test]
    public void PlatformLogUri_IsReadFromTheConfigMap_AndAMalformedOneNamesTheKey()
    {
        var (defaults, problem) = PlatformDefaults.FromConfigMap(new Dictionary<string, string>
        {
            [PlatformDefaults.MonitoringLogUriKey] = "s3://logs/cd4ml/",
        });
        var (_, bad) = PlatformDefaults.FromConfigMap(new Dictionary<string, string>
        {
            [PlatformDefaults.MonitoringLogUriKey] = "https://logs/cd4ml",
        });

        Assert.That(problem, Is.Null);
        Assert.That(defaults.MonitoringLogUri, Is.EqualTo("s3://logs/cd4ml/"));
        Assert.That(bad!.Key, Is.EqualTo("monitoring.logUri"));
        Assert.That(bad.Message, Does.Contain("not an S3 prefix"));
        Assert.That(PlatformDefaults.Keys[PlatformDefaults.MonitoringLogUriKey], Is.EqualTo("CD4ML_MONITORING_LOG_URI"));
    }

    [Test]
    public void ModelServerPods_GetTheLogPrefixAndSampleRate_WithTheModelsS3Credentials()
    {
        var owner = Owner(new MonitoringSpec { LogSampleRate = 0.25, LogUri = "s3://logs/sales/" });
        var version = new ModelVersion
        {
            Metadata = new V1ObjectMeta { Name = "sales-v1", NamespaceProperty = "team-a" },
            Spec = new ModelVersionSpec
            {
                ModelName = "sales", Version = 1,
                Artifact = new ArtifactSpec { Uri = "s3://m/sales/1/model.zip", Sha256 = new string('a', 64) },
                Storage = new S3StorageSpec { SecretRef = new SecretReference { Name = "s3" } },
            },
        };
        var monitoring = MonitoringSettings.From(owner, PlatformDefaults.None);

        foreach (var track in new[] { ServingWorkloads.Stable, ServingWorkloads.Canary })
        {
            var env = ServingWorkloads.Deployment(owner, version, track, 1, "img", monitoring: monitoring)
                .Spec.Template.Spec.Containers[0].Env.ToDictionary(e => e.Name);

            Assert.That(env["CD4ML_LOG_URI"].Value, Is.EqualTo("s3://logs/sales/"), track);
            Assert.That(env["CD4ML_LOG_SAMPLE_RATE"].Value, Is.EqualTo("0.25"), track);
            Assert.That(env["AWS_ACCESS_KEY_ID"].ValueFrom.SecretKeyRef.Name, Is.EqualTo("s3"), track);
        }

        var without = ServingWorkloads.Deployment(Owner(null), version, ServingWorkloads.Stable, 1, "img")
            .Spec.Template.Spec.Containers[0].Env.Select(e => e.Name);
        Assert.That(without, Has.None.StartsWith("CD4ML_LOG_"), "no spec.monitoring: nothing logged");
    }

    [Test]
    public void FeatureAboveDriftMax_TurnsDriftingTrue_NamingFeatureValueAndThreshold_WithOneWarningEvent()
    {
        var status = Serving();

        var plan = MonitoringCheck.Plan(status, Settings(), Prometheus,
            Reading(0.05, ("price", 0.41), ("store", 0.02), ("day", 0.3)), T0, 1);

        var drifting = status.Find(MonitoringCheck.DriftingCondition)!;
        Assert.That(drifting.Status, Is.EqualTo("True"));
        Assert.That(drifting.Message, Does.Contain("feature price PSI 0.41").And.Contain("feature day PSI 0.3")
            .And.Contain("above drift.max 0.2").And.Contain("sales-v1"));
        Assert.That(drifting.Message, Does.Not.Contain("store"));
        Assert.That(plan.Drifting, Is.True);
        Assert.That(plan.Events, Is.EqualTo(new[] { (EventType.Warning, "DriftDetected", drifting.Message) }));
        Assert.That(status.Monitoring!.Drift!.Select(f => f.Feature), Is.EqualTo(new[] { "price", "day", "store" }), "highest first");
        Assert.That(status.Monitoring.PredictionDrift, Is.EqualTo(0.05));
        Assert.That(status.Monitoring.LastCheckTime, Is.EqualTo(T0));

        var again = MonitoringCheck.Plan(status, Settings(), Prometheus, Reading(0.05, ("price", 0.5)), T0.AddMinutes(1), 1);
        Assert.That(again.Events, Is.Empty, "still drifting: no second event");
    }

    [Test]
    public void PredictionDriftAboveMax_AloneTurnsDriftingTrue()
    {
        var status = Serving();

        MonitoringCheck.Plan(status, Settings(), Prometheus, Reading(0.7, ("price", 0.01)), T0, 1);

        Assert.That(status.Find(MonitoringCheck.DriftingCondition)!.Message, Does.Contain("prediction PSI 0.7 above drift.max 0.2"));
    }

    [Test]
    public void DriftFallingBelowMax_TurnsDriftingFalse_SayingNoFeatureIsAbove_WithADriftResolvedEvent()
    {
        var status = Serving();
        MonitoringCheck.Plan(status, Settings(), Prometheus, Reading(null, ("price", 0.41)), T0, 1);

        var plan = MonitoringCheck.Plan(status, Settings(), Prometheus, Reading(0.01, ("price", 0.08)), T0.AddMinutes(1), 1);

        var drifting = status.Find(MonitoringCheck.DriftingCondition)!;
        Assert.That(drifting.Status, Is.EqualTo("False"));
        Assert.That(drifting.Message, Does.Contain("no feature above drift.max 0.2 (highest: price 0.08)"));
        Assert.That(plan.Events.Single().Reason, Is.EqualTo("DriftResolved"));
        Assert.That(plan.Drifting, Is.False);
    }

    [Test]
    public void NoFiguresAtAll_IsUnknown_SayingWhy_AndNeverAnEvent()
    {
        var noData = Serving();
        var noPrometheus = Serving();
        var failed = Serving();

        var plan = MonitoringCheck.Plan(noData, Settings(), Prometheus, Reading(null), T0, 1);
        MonitoringCheck.Plan(noPrometheus, Settings(), null, null, T0, 1);
        MonitoringCheck.Plan(failed, Settings(), Prometheus, MonitoringReading.Failed("Prometheus at http://prom unreachable"), T0, 1);

        Assert.That(noData.Find(MonitoringCheck.DriftingCondition), Has.Property("Status").EqualTo("Unknown")
            .And.Property("Reason").EqualTo("NoDriftData")
            .And.Property("Message").Contains("no training profile").And.Property("Message").Contains("no traffic"));
        Assert.That(noPrometheus.Find(MonitoringCheck.DriftingCondition), Has.Property("Reason").EqualTo("NoPrometheus"));
        Assert.That(failed.Find(MonitoringCheck.DriftingCondition), Has.Property("Reason").EqualTo("PrometheusError")
            .And.Property("Message").Contains("unreachable"));
        Assert.That(plan.Events, Is.Empty);
        Assert.That(plan.Drifting, Is.Null);
    }

    [Test]
    public void Check_IsDueEveryCheckInterval_AndTheRequeueWaitsForTheNext()
    {
        var status = Serving();
        var settings = MonitoringSettings.From(Owner(new MonitoringSpec { Drift = new DriftSpec { CheckInterval = "2m" } }),
            PlatformDefaults.None)!;
        Assert.That(MonitoringCheck.Due(status, settings, T0), Is.True, "never checked");

        MonitoringCheck.Plan(status, settings, Prometheus, Reading(null, ("price", 0.5)), T0, 1);
        var between = MonitoringCheck.Plan(status, settings, Prometheus, null, T0.AddSeconds(30), 1);

        Assert.That(MonitoringCheck.Due(status, settings, T0.AddSeconds(119)), Is.False);
        Assert.That(MonitoringCheck.Due(status, settings, T0.AddMinutes(2)), Is.True);
        Assert.That(between.Requeue, Is.EqualTo(TimeSpan.FromSeconds(90)));
        Assert.That(between.Drifting, Is.True, "between checks the last verdict stands");
        Assert.That(between.Events, Is.Empty);
    }

    [Test]
    public void LiveQuality_ListsTheServedVersionsOnly_StableFirst()
    {
        var status = Serving();
        status.CanaryVersion = "sales-v2";
        var reading = new MonitoringReading([new FeatureDrift { Feature = "price", Value = 0.01 }], null,
        [
            new LiveQualityStatus { Version = "sales-v2", Track = "canary", Metric = "rmse", Value = 9 },
            new LiveQualityStatus { Version = "sales-v0", Track = "stable", Metric = "rmse", Value = 1 },
            new LiveQualityStatus { Version = "sales-v1", Track = "stable", Metric = "rmse", Value = 2 },
        ]);

        MonitoringCheck.Plan(status, Settings(), Prometheus, reading, T0, 1);

        Assert.That(status.Monitoring!.LiveQuality!.Select(q => $"{q.Version}/{q.Track}={q.Value}"),
            Is.EqualTo(new[] { "sales-v1/stable=2", "sales-v2/canary=9" }));
    }

    [Test]
    public void MonitoringRemoved_ClearsItsStatusAndCondition()
    {
        var status = Serving();
        MonitoringCheck.Plan(status, Settings(), Prometheus, Reading(null, ("price", 0.5)), T0, 1);

        var plan = MonitoringCheck.Plan(status, null, Prometheus, null, T0, 1);

        Assert.That(status.Monitoring, Is.Null);
        Assert.That(status.Find(MonitoringCheck.DriftingCondition), Is.Null);
        Assert.That(plan.Requeue, Is.Null);
    }
}
