using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Entities;
using k8s;
using k8s.Models;
using NUnit.Framework;
using static Cd4ml.Operator.Tests.Rollouts.RolloutObjects;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>The builtins Drift and LiveQuality: their queries, their verdicts, and a canary rolled back on them alone.</summary>
public sealed class CanaryMlSignalsTests
{
    private static readonly DateTime T0 = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
    private static readonly QueryTarget Canary = new("ml", "sales", "sales", "sales-v2", "canary");

    private static readonly AnalysisMetric LiveQuality = new()
    {
        Name = "live-quality", Builtin = BuiltinMetric.LiveQuality, MaxIncreaseOverStable = 2,
    };

    [Test]
    public void DriftQuery_TakesTheHighestPsiOfFeaturesAndPredictions_OfTheCanaryOnly()
    {
        var query = AnalysisQueries.For(new AnalysisMetric { Name = "drift", Builtin = BuiltinMetric.Drift, Max = 0.2 },
            Canary, TimeSpan.FromMinutes(5));

        Assert.That(query, Does.StartWith("max(").And.Contain("cd4ml_feature_drift{").And.Contain("cd4ml_prediction_drift{")
            .And.Contain("version=\"sales-v2\"").And.Contain("track=\"canary\"").And.Contain("[300s]"));
    }

    [Test]
    public void LiveQualityQuery_IsRmseForRegression_OrOneMinusAccuracyForClassification_SoHigherIsWorse()
    {
        var query = AnalysisQueries.For(LiveQuality, Canary, TimeSpan.FromMinutes(5));

        Assert.That(query, Does.Contain("cd4ml_live_rmse{").And.Contain("(1 - last_over_time(cd4ml_live_accuracy{"));
    }

    [Test]
    public void LiveQuality_WithoutFeedbackYet_IsInconclusive_NeverFailed()
    {
        var noCanaryFeedback = AnalysisJudge.Judge(LiveQuality, QueryResult.NoData(), QueryResult.Of(100), 20, QueryResult.Of(5));
        var noStableFeedback = AnalysisJudge.Judge(LiveQuality, QueryResult.Of(50), QueryResult.Of(100), 20, QueryResult.NoData());

        Assert.That(noCanaryFeedback.Phase, Is.EqualTo(MeasurementPhase.Inconclusive));
        Assert.That(noStableFeedback.Phase, Is.EqualTo(MeasurementPhase.Inconclusive));
    }

    [Test]
    public void LiveQuality_WorseThanStableByMoreThanAllowed_Fails_NamingBothValues()
    {
        var worse = AnalysisJudge.Judge(LiveQuality, QueryResult.Of(12.5), QueryResult.Of(100), 20, QueryResult.Of(5));
        var close = AnalysisJudge.Judge(LiveQuality, QueryResult.Of(6), QueryResult.Of(100), 20, QueryResult.Of(5));

        Assert.That(worse.Phase, Is.EqualTo(MeasurementPhase.Failed));
        Assert.That(worse.Message, Is.EqualTo("live-quality=12.5 exceeds stable 5 by more than 2"));
        Assert.That(close.Phase, Is.EqualTo(MeasurementPhase.Successful));
    }

    [Test]
    public void CanaryWithGoodHttpButBadPredictions_IsRolledBack_OnLiveQualityAlone()
    {
        var owner = new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = "ml", Uid = "uid", Generation = 1 },
            Spec = new ModelDeploymentSpec
            {
                ModelName = "sales",
                Replicas = 2,
                Strategy = new RolloutStrategy
                {
                    Canary = new CanaryStrategy
                    {
                        Steps = [new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "60s" } }],
                        Analysis = new AnalysisSpec
                        {
                            Interval = "10s", FailureLimit = 1,
                            Metrics =
                            [
                                new AnalysisMetric { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, Max = 0.05 },
                                LiveQuality,
                            ],
                        },
                    },
                },
            },
        };
        var options = new OperatorOptions { Image = "img", PrometheusAddress = "http://prom", LeaderElection = false };
        List<ModelVersion> versions = [Version(1)];
        V1Deployment? stable = null, canary = null;
        RolloutPlan Plan(DateTime now, RolloutMeasurement? measurement = null)
        {
            var plan = RolloutPlanner.Plan(new RolloutObservation(owner, versions, stable, canary, null, [], options, measurement), now);
            if (plan.Measure is null)
            {
                owner.Status = KubernetesJson.Deserialize<ModelDeploymentStatus>(KubernetesJson.Serialize(plan.Status));
            }

            return plan;
        }

        Plan(T0);
        stable = Track("sales-v1", 2);
        versions.Add(Version(2));
        Plan(T0);
        (stable, canary) = (Track("sales-v1", 1), Track("sales-v2", 1));
        Plan(T0);
        var asking = Plan(T0.AddSeconds(10));
        Assert.That(asking.Measure, Is.Not.Null);

        // What the reconciler's measurement gives for a canary that answers 200 but predicts badly.
        var samples = QueryResult.Of(200);
        var settings = asking.Measure!.Analysis;
        RolloutMeasurement measured = new(samples,
        [
            AnalysisJudge.Judge(settings.Metrics[0], QueryResult.Of(0), samples, settings.MinSampleCount),
            AnalysisJudge.Judge(settings.Metrics[1], QueryResult.Of(12.5), samples, settings.MinSampleCount, QueryResult.Of(5)),
        ]);
        var plan = Plan(T0.AddSeconds(10), measured);

        Assert.That(plan.RolledBack, Is.True);
        Assert.That(plan.Status.AbortReason, Does.Contain("live-quality=12.5 exceeds stable 5 by more than 2"));
        Assert.That(plan.Status.Find(ModelDeploymentReconciler.DegradedCondition)!.Status, Is.EqualTo("True"));
        Assert.That(plan.Workloads!.Canary!.Spec.Replicas, Is.Zero, "all traffic back on stable");
    }
}
