using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Client;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

public sealed class ReplicaSplitTests
{
    [TestCase(2, 0, 2, 0)]
    [TestCase(2, 20, 1, 1)]
    [TestCase(10, 20, 8, 2)]
    [TestCase(10, 25, 7, 3)]
    [TestCase(4, 50, 2, 2)]
    [TestCase(5, 100, 0, 5)]
    [TestCase(1, 20, 1, 1)]
    [TestCase(0, 50, 0, 0)]
    public void For_GivesCeilingCanaryShare_AndKeepsStableServingBelow100(int replicas, int weight, int stable, int canary) =>
        Assert.That(ReplicaSplit.For(replicas, weight), Is.EqualTo(new ReplicaSplit(stable, canary)));

    [Test]
    public void For_AnyPositiveWeight_RunsAtLeastOneCanaryPod() =>
        Assert.That(ReplicaSplit.For(100, 1).Canary, Is.EqualTo(1));
}

public sealed class CanaryRouteWeightTests
{
    // Four replicas behind an HTTPRoute: weight 25 needs 1 canary pod, 50 needs 2, 75 needs 3.
    private static int PodsFor(int weight) => ReplicaSplit.ForRoutedTraffic(4, weight).Canary;

    [TestCase(0, 0)]
    [TestCase(1, 0)]
    [TestCase(2, 50)]
    [TestCase(3, 50)]
    public void StepWeight_ReachesTheRoute_OnlyWithEnoughReadyCanaryPods(int readyPods, int expected) =>
        Assert.That(CanaryRouteWeight.Next(50, 0, [50], readyPods, PodsFor), Is.EqualTo(expected));

    [Test]
    public void WhileWaiting_TheRouteKeepsItsWeight() =>
        Assert.That(CanaryRouteWeight.Next(75, 25, [25, 75], 2, PodsFor), Is.EqualTo(25));

    [Test]
    public void AnEarlierStepsWeight_IsTaken_WhenTheReadyPodsCarryIt_ButNotTheCurrentOne() =>
        Assert.That(CanaryRouteWeight.Next(75, 0, [25, 75], 1, PodsFor), Is.EqualTo(25));

    [TestCase(0)]
    [TestCase(25)]
    public void LowerWeights_ApplyAtOnce_WithoutAnyReadyPod(int target) =>
        Assert.That(CanaryRouteWeight.Next(target, 75, [25, 75], 0, PodsFor), Is.EqualTo(target));

    [Test]
    public void ReadyPods_CountOnlyTheCanaryVersion_OnceTheSpecIsObserved_WithNoOlderPodsLeft()
    {
        V1Deployment Track(string version, long generation, long observed, int replicas, int updated, int ready) => new()
        {
            Metadata = new V1ObjectMeta { Generation = generation },
            Spec = new V1DeploymentSpec
            {
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { [ServingWorkloads.VersionLabel] = version } },
                },
            },
            Status = new V1DeploymentStatus
            {
                ObservedGeneration = observed, Replicas = replicas, UpdatedReplicas = updated, ReadyReplicas = ready,
            },
        };

        Assert.That(ServingWorkloads.ReadyPods(Track("v2", 3, 3, 2, 2, 1), "v2"), Is.EqualTo(1), "scaling up: one of two Ready");
        Assert.That(ServingWorkloads.ReadyPods(Track("v2", 3, 3, 2, 2, 1), "v3"), Is.EqualTo(0), "another version");
        Assert.That(ServingWorkloads.ReadyPods(Track("v2", 4, 3, 2, 2, 2), "v2"), Is.EqualTo(0), "spec not observed yet");
        Assert.That(ServingWorkloads.ReadyPods(Track("v2", 3, 3, 3, 1, 2), "v2"), Is.EqualTo(0), "older pods remain");
        Assert.That(ServingWorkloads.ReadyPods(null, "v2"), Is.EqualTo(0));
        var scaledToZero = Track("v2", 5, 5, 3, 3, 2);
        scaledToZero.Spec.Replicas = 0;
        Assert.That(ServingWorkloads.ReadyPods(scaledToZero, "v2"), Is.EqualTo(0), "scaling down: its Ready pods are on their way out");
    }
}

public sealed class CanaryPlanTests
{
    [Test]
    public void From_NoSteps_UsesDefault20Analysis50Analysis()
    {
        var plan = CanaryPlan.From(null, TimeSpan.FromSeconds(30));
        Assert.That(plan.Steps.Select(s => s.ToString()),
            Is.EqualTo(new[] { "setWeight 20", "analysis", "setWeight 50", "analysis" }));
        Assert.That(plan.Steps[1].Duration, Is.EqualTo(TimeSpan.FromSeconds(90)));
        Assert.That(plan.WeightAt(0), Is.EqualTo(20));
        Assert.That(plan.WeightAt(1), Is.EqualTo(20));
        Assert.That(plan.WeightAt(3), Is.EqualTo(50));
        Assert.That(plan.WeightsUpTo(1), Is.EqualTo(new[] { 20 }));
        Assert.That(plan.WeightsUpTo(2), Is.EqualTo(new[] { 20, 50 }));
        Assert.That(plan.Describe(1), Is.EqualTo("2/4 analysis"));
    }

    [Test]
    public void From_SpecSteps_ResolvesPauseAndAnalysisDurations()
    {
        var plan = CanaryPlan.From(new CanaryStrategy
        {
            Steps =
            [
                new CanaryStep { Pause = new PauseStep() },
                new CanaryStep { SetWeight = 40 },
                new CanaryStep { Pause = new PauseStep { Duration = "1m30s" } },
                new CanaryStep { Analysis = new AnalysisStep { Duration = "500ms" } },
            ],
        }, TimeSpan.FromSeconds(2));
        Assert.That(plan.Steps[0], Is.EqualTo(new PlanStep(StepKind.Pause)));
        Assert.That(plan.WeightAt(0), Is.EqualTo(0));
        Assert.That(plan.Steps[2].Duration, Is.EqualTo(TimeSpan.FromSeconds(90)));
        Assert.That(plan.Steps[3].Duration, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
        Assert.That(plan.Describe(1), Is.EqualTo("2/4 setWeight 40"));
    }

    [Test]
    public void AnalysisSettings_Defaults_AndSpecPrometheusWinsOverOperatorDefault()
    {
        var defaults = AnalysisSettings.From(null, "http://prom:9090");
        Assert.That(defaults.Interval, Is.EqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(defaults.Window, Is.EqualTo(TimeSpan.FromSeconds(60)));
        Assert.That(defaults.Metrics.Select(m => m.Builtin), Is.EqualTo(new BuiltinMetric?[] { BuiltinMetric.ErrorRate, BuiltinMetric.LatencyP99 }));
        Assert.That((defaults.FailureLimit, defaults.InconclusiveLimit, defaults.ErrorLimit, defaults.MinSampleCount), Is.EqualTo((2, 3, 3, 20)));
        Assert.That(defaults.PrometheusAddress, Is.EqualTo("http://prom:9090"));

        var own = AnalysisSettings.From(new AnalysisSpec { Interval = "2s", Prometheus = new PrometheusSpec { Address = "http://own" } }, null);
        Assert.That(own.Window, Is.EqualTo(TimeSpan.FromSeconds(30)), "window is at least 30s");
        Assert.That(own.PrometheusAddress, Is.EqualTo("http://own"));
        Assert.That(AnalysisSettings.From(null, null).PrometheusAddress, Is.Null);
    }

    [TestCase("30s", 30_000)]
    [TestCase("1m30s", 90_000)]
    [TestCase("1.5h", 5_400_000)]
    [TestCase("250ms", 250)]
    public void DurationText_ParsesGoDurations(string text, int milliseconds) =>
        Assert.That(DurationText.Parse(text), Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));

    [Test]
    public void DurationText_RejectsGarbage() => Assert.Throws<FormatException>(() => DurationText.Parse("3 seconds"));
}

public sealed class AnalysisJudgeTests
{
    private static readonly AnalysisMetric ErrorRate = new() { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, Max = 0.05 };
    private static readonly QueryResult Plenty = QueryResult.Of(100);

    [Test]
    public void Judge_ValueWithinMax_IsSuccessful() =>
        Assert.That(AnalysisJudge.Judge(ErrorRate, QueryResult.Of(0.01), Plenty, 20).Phase, Is.EqualTo(MeasurementPhase.Successful));

    [Test]
    public void Judge_ValueAboveMax_FailsNamingMetricValueAndThreshold()
    {
        var verdict = AnalysisJudge.Judge(ErrorRate, QueryResult.Of(0.25), Plenty, 20);
        Assert.That(verdict.Phase, Is.EqualTo(MeasurementPhase.Failed));
        Assert.That(verdict.Message, Is.EqualTo("error-rate=0.25 above max 0.05"));
        Assert.That(verdict.Value, Is.EqualTo(0.25));
        Assert.That(verdict.Threshold, Is.EqualTo("max 0.05"));
    }

    [Test]
    public void Judge_BelowMin_Fails()
    {
        var accuracy = new AnalysisMetric { Name = "accuracy", Query = "x", Min = 0.9 };
        Assert.That(AnalysisJudge.Judge(accuracy, QueryResult.Of(0.5), Plenty, 20).Phase, Is.EqualTo(MeasurementPhase.Failed));
    }

    [Test]
    public void Judge_TooFewRequests_IsInconclusiveNeverFailed_EvenWithAHugeErrorRate()
    {
        var verdict = AnalysisJudge.Judge(ErrorRate, QueryResult.Of(1.0), QueryResult.Of(3), 20);
        Assert.That(verdict.Phase, Is.EqualTo(MeasurementPhase.Inconclusive));
        Assert.That(verdict.Message, Does.Contain("3 canary requests"));
    }

    [Test]
    public void Judge_NoDataOrNaN_IsInconclusive()
    {
        Assert.That(AnalysisJudge.Judge(ErrorRate, QueryResult.NoData(), Plenty, 20).Phase, Is.EqualTo(MeasurementPhase.Inconclusive));
        Assert.That(AnalysisJudge.Judge(ErrorRate, QueryResult.Of(double.NaN), Plenty, 20).Phase, Is.EqualTo(MeasurementPhase.Inconclusive));
        Assert.That(AnalysisJudge.Judge(ErrorRate, QueryResult.Of(0.9), QueryResult.NoData(), 20).Phase, Is.EqualTo(MeasurementPhase.Inconclusive));
    }

    [Test]
    public void Judge_QueryFailure_IsError()
    {
        var down = QueryResult.Failure("connection refused");
        Assert.That(AnalysisJudge.Judge(ErrorRate, down, Plenty, 20).Phase, Is.EqualTo(MeasurementPhase.Error));
        Assert.That(AnalysisJudge.Judge(ErrorRate, QueryResult.Of(0.9), down, 20).Phase, Is.EqualTo(MeasurementPhase.Error));
    }

    [Test]
    public void Judge_InfiniteLatency_FailsMax()
    {
        var latency = new AnalysisMetric { Name = "latency-p99", Builtin = BuiltinMetric.LatencyP99, Max = 1 };
        Assert.That(AnalysisJudge.Judge(latency, QueryResult.Of(double.PositiveInfinity), Plenty, 20).Phase,
            Is.EqualTo(MeasurementPhase.Failed));
    }

    [Test]
    public void Judge_MaxIncreaseOverStable_ComparesWithStable()
    {
        var metric = new AnalysisMetric { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, MaxIncreaseOverStable = 0.02 };
        Assert.That(AnalysisJudge.Judge(metric, QueryResult.Of(0.05), Plenty, 20, QueryResult.Of(0.04)).Phase, Is.EqualTo(MeasurementPhase.Successful));
        Assert.That(AnalysisJudge.Judge(metric, QueryResult.Of(0.10), Plenty, 20, QueryResult.Of(0.04)).Phase, Is.EqualTo(MeasurementPhase.Failed));
        Assert.That(AnalysisJudge.Judge(metric, QueryResult.Of(0.10), Plenty, 20, QueryResult.NoData()).Phase, Is.EqualTo(MeasurementPhase.Inconclusive));
    }

    [Test]
    public void Combine_FailedBeatsErrorBeatsInconclusive()
    {
        Verdict V(MeasurementPhase p) => new("m", p, null, "", "");
        Assert.That(AnalysisJudge.Combine([V(MeasurementPhase.Successful), V(MeasurementPhase.Inconclusive)]), Is.EqualTo(MeasurementPhase.Inconclusive));
        Assert.That(AnalysisJudge.Combine([V(MeasurementPhase.Error), V(MeasurementPhase.Inconclusive)]), Is.EqualTo(MeasurementPhase.Error));
        Assert.That(AnalysisJudge.Combine([V(MeasurementPhase.Error), V(MeasurementPhase.Failed)]), Is.EqualTo(MeasurementPhase.Failed));
        Assert.That(AnalysisJudge.Combine([V(MeasurementPhase.Successful)]), Is.EqualTo(MeasurementPhase.Successful));
    }
}

public sealed class RolloutDecisionTests
{
    private static readonly DateTime T0 = new(2026, 11, 28, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private static readonly CanaryPlan Default = CanaryPlan.From(null, Interval);
    // The window equals the interval, so analysis steps have no warm-up (the planner's tests cover it).
    private static readonly AnalysisSettings Analysis =
        AnalysisSettings.From(new AnalysisSpec { Interval = "10s", Window = "10s" }, "http://prom");

    private static RolloutSnapshot At(int step, double seconds, AnalysisCounters? counters = null, bool ready = true,
        CanaryPlan? plan = null, AnalysisSettings? analysis = null) =>
        new(plan ?? Default, analysis ?? Analysis, step, T0, T0.AddSeconds(seconds), ready, counters ?? AnalysisCounters.Empty);

    [Test]
    public void SetWeight_WaitsForCanaryPods_ThenAdvances()
    {
        var waiting = RolloutDecision.Decide(At(0, 1, ready: false));
        Assert.That((waiting.Kind, waiting.Reason), Is.EqualTo((RolloutActionKind.Wait, "WaitingForCanary")));
        Assert.That(RolloutDecision.Decide(At(0, 1)).Kind, Is.EqualTo(RolloutActionKind.Advance));
    }

    [Test]
    public void Analysis_FirstMeasurementWaitsOneInterval()
    {
        var early = RolloutDecision.Decide(At(1, 3));
        Assert.That(early.Kind, Is.EqualTo(RolloutActionKind.Wait));
        Assert.That(early.After, Is.EqualTo(TimeSpan.FromSeconds(7)));
        Assert.That(RolloutDecision.Decide(At(1, 10)).Kind, Is.EqualTo(RolloutActionKind.Measure));
    }

    [Test]
    public void Analysis_MeasuresEveryInterval_AndAdvancesAfterItsDurationWhenMeasurementsSucceeded()
    {
        var measured = new AnalysisCounters(2, 0, 0, 0, T0.AddSeconds(20));
        Assert.That(RolloutDecision.Decide(At(1, 25, measured)).After, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(RolloutDecision.Decide(At(1, 30, measured)).Kind, Is.EqualTo(RolloutActionKind.Measure));
        var done = measured with { Successful = 3, LastMeasurement = T0.AddSeconds(30) };
        Assert.That(RolloutDecision.Decide(At(1, 30, done)).Kind, Is.EqualTo(RolloutActionKind.Advance));
    }

    [Test]
    public void Analysis_WithAWindowLongerThanTheInterval_LastsItsDurationAfterTheFirstWindow()
    {
        var warmUp = Analysis with { Window = TimeSpan.FromSeconds(30) };
        Assert.That(RolloutDecision.WarmUp(warmUp), Is.EqualTo(TimeSpan.FromSeconds(20)));
        var measured = new AnalysisCounters(3, 0, 0, 0, T0.AddSeconds(30));
        Assert.That(RolloutDecision.Decide(At(1, 30, measured, analysis: warmUp)).Kind, Is.EqualTo(RolloutActionKind.Wait),
            "30 s of analysis (3 intervals) after a 20 s warm-up");
        var done = measured with { Successful = 5, LastMeasurement = T0.AddSeconds(50) };
        Assert.That(RolloutDecision.Decide(At(1, 50, done, analysis: warmUp)).Kind, Is.EqualTo(RolloutActionKind.Advance));
    }

    [TestCase(30, 29.9, true)]
    [TestCase(30, 30, false)]
    [TestCase(60, 59, true)]
    [TestCase(10, 10, false)]
    public void InWarmUp_UntilTheStepHasLastedOneWindow(int windowSeconds, double at, bool warmingUp) =>
        Assert.That(RolloutDecision.InWarmUp(Analysis with { Window = TimeSpan.FromSeconds(windowSeconds) }, T0, T0.AddSeconds(at)),
            Is.EqualTo(warmingUp));

    [Test]
    public void Analysis_FailureLimit_RollsBackWithTheFailedMeasurementInTheMessage()
    {
        var failed = new AnalysisCounters(0, 2, 0, 0, T0.AddSeconds(20), "error-rate=0.3 above max 0.05");
        var action = RolloutDecision.Decide(At(1, 20, failed));
        Assert.That(action.Kind, Is.EqualTo(RolloutActionKind.RollBack));
        Assert.That(action.Message, Does.StartWith("error-rate=0.3 above max 0.05"));
        Assert.That(action.Message, Does.Contain("failureLimit 2"));
    }

    [Test]
    public void Analysis_OneFailureBelowLimit_KeepsAnalysing() =>
        Assert.That(RolloutDecision.Decide(At(1, 12, new AnalysisCounters(0, 1, 0, 0, T0.AddSeconds(10)))).Kind,
            Is.EqualTo(RolloutActionKind.Wait));

    [Test]
    public void Analysis_InconclusiveLimit_PausesNeverRollsBack()
    {
        var action = RolloutDecision.Decide(At(1, 30, new AnalysisCounters(0, 0, 3, 0, T0.AddSeconds(30))));
        Assert.That((action.Kind, action.Reason), Is.EqualTo((RolloutActionKind.Pause, "AnalysisInconclusive")));
    }

    [Test]
    public void Analysis_ErrorLimit_PausesNeverRollsBack()
    {
        var action = RolloutDecision.Decide(At(1, 30, new AnalysisCounters(0, 1, 0, 3, T0.AddSeconds(30))));
        Assert.That((action.Kind, action.Reason), Is.EqualTo((RolloutActionKind.Pause, "AnalysisError")));
    }

    [Test]
    public void Analysis_StepEndsWithoutASuccessfulMeasurement_Pauses()
    {
        var action = RolloutDecision.Decide(At(1, 31, new AnalysisCounters(0, 0, 2, 0, T0.AddSeconds(30))));
        Assert.That((action.Kind, action.Reason), Is.EqualTo((RolloutActionKind.Pause, "AnalysisInconclusive")));
    }

    [Test]
    public void Analysis_WithoutPrometheus_Pauses_NamingTheFieldAndThePlatformDefault()
    {
        var action = RolloutDecision.Decide(At(1, 30, analysis: Analysis with { PrometheusAddress = null }));
        Assert.That((action.Kind, action.Reason), Is.EqualTo((RolloutActionKind.Pause, "NoPrometheus")));
        Assert.That(action.Message, Does.Contain("spec.strategy.canary.analysis.prometheus.address")
            .And.Contain("prometheus.address of ConfigMap cd4ml-defaults").And.Contain("CD4ML_PROMETHEUS_ADDRESS"));
    }

    [Test]
    public void Pause_WithoutDuration_WaitsForPromote_ThenAdvances()
    {
        var plan = CanaryPlan.From(new CanaryStrategy { Steps = [new CanaryStep { Pause = new PauseStep() }] }, Interval);
        Assert.That(RolloutDecision.Decide(At(0, 3600, plan: plan)).Kind, Is.EqualTo(RolloutActionKind.Pause));
        var promoted = RolloutDecision.Decide(At(0, 1, plan: plan) with { PromoteRequested = true });
        Assert.That((promoted.Kind, promoted.Reason), Is.EqualTo((RolloutActionKind.Advance, "PromotedManually")));
    }

    [Test]
    public void Pause_WithDuration_AdvancesWhenElapsed()
    {
        var plan = CanaryPlan.From(new CanaryStrategy { Steps = [new CanaryStep { Pause = new PauseStep { Duration = "5s" } }] }, Interval);
        var paused = RolloutDecision.Decide(At(0, 2, plan: plan));
        Assert.That((paused.Kind, paused.After), Is.EqualTo((RolloutActionKind.Pause, (TimeSpan?)TimeSpan.FromSeconds(3))));
        Assert.That(RolloutDecision.Decide(At(0, 5, plan: plan)).Kind, Is.EqualTo(RolloutActionKind.Advance));
    }

    [Test]
    public void AfterTheLastStep_Promotes() =>
        Assert.That(RolloutDecision.Decide(At(4, 0)).Kind, Is.EqualTo(RolloutActionKind.Promote));

    [Test]
    public void Abort_RollsBackFromAnyStep()
    {
        var action = RolloutDecision.Decide(At(2, 0, ready: false) with { AbortRequested = true });
        Assert.That((action.Kind, action.Reason), Is.EqualTo((RolloutActionKind.RollBack, "Aborted")));
    }

    [Test]
    public void Promote_ResumesAnInconclusivePause() =>
        Assert.That(RolloutDecision.Decide(At(1, 30, new AnalysisCounters(0, 0, 3, 0, T0)) with { PromoteRequested = true }).Kind,
            Is.EqualTo(RolloutActionKind.Advance));
}

public sealed class PrometheusResponseTests
{
    [Test]
    public void Parse_VectorWithOneSeries_GivesItsValue() =>
        Assert.That(PrometheusClient.Parse(200,
                """{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"0.25"]}]}}"""),
            Is.EqualTo(QueryResult.Of(0.25)));

    [Test]
    public void Parse_EmptyVector_IsNoData() =>
        Assert.That(PrometheusClient.Parse(200, """{"status":"success","data":{"resultType":"vector","result":[]}}""").Status,
            Is.EqualTo(QueryStatus.NoData));

    [Test]
    public void Parse_ScalarNaN_IsAValueThatIsNotANumber()
    {
        var result = PrometheusClient.Parse(200, """{"status":"success","data":{"resultType":"scalar","result":[1700000000,"NaN"]}}""");
        Assert.That(result.Status, Is.EqualTo(QueryStatus.Value));
        Assert.That(result.HasNumber, Is.False);
    }

    [Test]
    public void Parse_ErrorsAndManySeries_AreErrors()
    {
        Assert.That(PrometheusClient.Parse(400, """{"status":"error","errorType":"bad_data","error":"parse error"}""").Message,
            Does.Contain("parse error"));
        Assert.That(PrometheusClient.Parse(502, "<html>bad gateway</html>").Status, Is.EqualTo(QueryStatus.Error));
        Assert.That(PrometheusClient.Parse(200,
                """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}}""").Status,
            Is.EqualTo(QueryStatus.Error));
    }

    [Test]
    public async Task Query_Unreachable_IsErrorWithMessage()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var result = await new PrometheusClient(http).QueryAsync("http://127.0.0.1:1", "up", CancellationToken.None);
        Assert.That(result.Status, Is.EqualTo(QueryStatus.Error));
        Assert.That(result.Message, Does.Contain("unreachable"));
    }

    [Test]
    public void Queries_SelectTheCanaryTrackAndVersion_ToleratingAMissingNamespaceLabel()
    {
        var target = new QueryTarget("ns1", "sales", "sales", "sales-v2", "canary");
        var query = AnalysisQueries.ErrorRate(target, TimeSpan.FromSeconds(30));
        Assert.That(query, Does.Contain("model=\"sales\",version=\"sales-v2\",track=\"canary\",namespace=~\"ns1|\""));
        Assert.That(query, Does.Contain("outcome=\"server_error\"}[30s])) or vector(0))"));
        Assert.That(AnalysisQueries.LatencyP99(target, TimeSpan.FromSeconds(30)),
            Does.StartWith("histogram_quantile(0.99, sum by (le) (rate(cd4ml_prediction_duration_seconds_bucket{"));
        Assert.That(AnalysisQueries.Fill("x{version=\"{{version}}\",track=\"{{track}}\"}[{{window}}]", target, TimeSpan.FromMinutes(1)),
            Is.EqualTo("x{version=\"sales-v2\",track=\"canary\"}[60s]"));
    }
}

public sealed class ModelDeploymentIndexTests
{
    [Test]
    public void DeploymentsFor_ARoute_AreThoseInItsNamespaceThatSetWeightsInIt()
    {
        var index = new ModelDeploymentIndex();
        index.Set(new NamespacedName("ml", "sales"), "sales", "public");
        index.Set(new NamespacedName("ml", "fraud"), "fraud", "public");
        index.Set(new NamespacedName("ml", "churn"), "churn", null);
        index.Set(new NamespacedName("other", "sales"), "sales", "public");
        index.Set(new NamespacedName("ml", "moved"), "moved", "public");
        index.Set(new NamespacedName("ml", "moved"), "moved", "internal");

        var route = new HttpRoute { Metadata = new V1ObjectMeta { NamespaceProperty = "ml", Name = "public" } };
        Assert.That(index.DeploymentsFor(route).Select(key => key.Name), Is.EquivalentTo(new[] { "sales", "fraud" }));
        index.Remove(new NamespacedName("ml", "sales"));
        Assert.That(index.DeploymentsFor(route).Select(key => key.Name), Is.EqualTo(new[] { "fraud" }));
    }
}
