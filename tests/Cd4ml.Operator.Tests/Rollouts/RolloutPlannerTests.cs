using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Events;
using k8s;
using k8s.Models;
using NUnit.Framework;
using static Cd4ml.Operator.Tests.Rollouts.RolloutObjects;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>
/// <see cref="RolloutPlanner.Plan"/> on its inputs alone: each test builds what a reconcile would observe, plans, and
/// feeds the planned status into the next observation as the API would.
/// </summary>
public sealed class RolloutPlannerTests
{
    private static readonly DateTime T0 = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
    private static readonly OperatorOptions Options = new() { Image = "img", PrometheusAddress = "http://prom", LeaderElection = false };

    // The window equals the interval: the first measurement already covers a full window, so no step has a warm-up
    // (WarmUpSpec has one).
    private static ModelDeploymentSpec Spec(params CanaryStep[] steps) => SpecWithWindow("10s", steps);

    // A 30 s window measured every 10 s: the first two measurements of a step fall in its first window.
    private static ModelDeploymentSpec WarmUpSpec(params CanaryStep[] steps) => SpecWithWindow("30s", steps);

    private static ModelDeploymentSpec SpecWithWindow(string window, CanaryStep[] steps) => new()
    {
        ModelName = "sales",
        Replicas = 2,
        Strategy = new RolloutStrategy
        {
            Canary = new CanaryStrategy
            {
                Steps = steps.Length == 0 ? null : [.. steps],
                Analysis = new AnalysisSpec
                {
                    Interval = "10s", Window = window, FailureLimit = 2, InconclusiveLimit = 2, ErrorLimit = 2,
                },
            },
        },
    };

    private static readonly CanaryStep[] WeightThenAnalysis =
        [new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "60s" } }];

    /// <summary>One cd4ml Deployment as the planner sees it; <see cref="Plan"/> moves it on like a reconcile would.</summary>
    private sealed class World
    {
        public ModelDeployment Owner { get; } = new()
        {
            Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = "ml", Uid = "uid", Generation = 1 },
        };

        public List<ModelVersion> Versions { get; } = [Version(1)];

        public V1Deployment? Stable { get; set; }

        public V1Deployment? Canary { get; set; }

        public RouteObservation? Route { get; set; }

        public List<SpecProblem> Problems { get; } = [];

        public RolloutPlan Plan(DateTime now, RolloutMeasurement? measurement = null)
        {
            var plan = RolloutPlanner.Plan(new RolloutObservation(Owner, Versions, Stable, Canary, Route, Problems, Options,
                measurement), now);
            if (plan.Measure is null)
            {
                Owner.Status = KubernetesJson.Deserialize<ModelDeploymentStatus>(KubernetesJson.Serialize(plan.Status));
            }

            return plan;
        }

        public void Annotate(string annotation, string value) =>
            (Owner.Metadata.Annotations ??= new Dictionary<string, string>())[annotation] = value;

        /// <summary>v1 stable and Ready, then v2 approved: the plan starts v2's rollout; its canary pods Ready.</summary>
        public void StableThenCanary()
        {
            Plan(T0);
            Stable = Track("sales-v1", 2);
            Versions.Add(Version(2));
            Plan(T0);
            Canary = Track("sales-v2", 1);
            Stable = Track("sales-v1", 1);
        }
    }

    private static World WorldWith(ModelDeploymentSpec spec)
    {
        var world = new World();
        world.Owner.Spec = spec;
        return world;
    }

    private static RolloutMeasurement Measured(MeasurementPhase phase, double value = 0.01) => new(QueryResult.Of(100),
        [new Verdict("error-rate", phase, value, "max 0.05",
            phase == MeasurementPhase.Failed ? $"error-rate={value} above max 0.05" : $"error-rate={value} within max 0.05")]);

    private static void AssertRolledBack(RolloutPlan plan, string reason)
    {
        var status = plan.Status;
        Assert.That(plan.RolledBack, Is.True);
        Assert.That((status.StableVersion, status.CanaryVersion, status.CurrentStep), Is.EqualTo(("sales-v1", "sales-v2", (int?)null)));
        Assert.That(status.AbortReason, Does.Contain(reason));
        Assert.That(status.Phase, Is.EqualTo(ModelDeploymentStatus.Degraded));
        var degraded = status.Find(ModelDeploymentReconciler.DegradedCondition)!;
        Assert.That((degraded.Status, degraded.Reason, degraded.Message), Is.EqualTo(("True", "RolledBack", status.AbortReason)));
        Assert.That(status.History!.Last().Outcome, Is.EqualTo("RolledBack"));
        var rolledBack = plan.Events.Single(e => e.Reason == "RolledBack");
        Assert.That((rolledBack.Type, rolledBack.Fields), Is.EqualTo((EventType.Warning, new RolloutEventFields("sales-v2", 0))));
        Assert.That((plan.Workloads!.Stable.Spec.Replicas, plan.Workloads.Canary!.Spec.Replicas), Is.EqualTo(((int?)2, (int?)0)),
            "all traffic back on stable");
        Assert.That((status.CanaryWeight, status.RequestedWeight), Is.EqualTo(((int?)0, (int?)0)));
    }

    [Test]
    public void FirstVersion_GoesToStable_WithItsWorkloads()
    {
        var world = WorldWith(Spec());
        var plan = world.Plan(T0);
        Assert.That((plan.Status.StableVersion, plan.Status.CanaryVersion), Is.EqualTo(("sales-v1", (string?)null)));
        Assert.That(plan.Events.Select(e => e.Reason), Is.EqualTo(new[] { "Deployed" }));
        Assert.That(plan.Workloads!.Stable.Spec.Replicas, Is.EqualTo(2));
        Assert.That(plan.Workloads.Canary, Is.Null, "no canary track to run");
        Assert.That(plan.Status.Phase, Is.EqualTo(ModelDeploymentStatus.Progressing), "no Ready pods observed yet");
        Assert.That(plan.RouteWeight, Is.Null);
    }

    [Test]
    public void NoVersion_IsPending_AndPlansNoWorkloads()
    {
        var world = WorldWith(Spec());
        world.Versions.Clear();
        var plan = world.Plan(T0);
        Assert.That((plan.Status.Phase, plan.Workloads), Is.EqualTo((ModelDeploymentStatus.Pending, (RolloutWorkloads?)null)));
    }

    [Test]
    public void NewVersion_StartsARollout_ThenAdvancesOnceTheCanaryPodsAreReady()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.Plan(T0);
        world.Stable = Track("sales-v1", 2);
        world.Versions.Add(Version(2));

        var started = world.Plan(T0);
        Assert.That((started.Status.CanaryVersion, started.Status.CurrentStep), Is.EqualTo(("sales-v2", (int?)0)));
        Assert.That(started.Events.Single(e => e.Reason == "RolloutStarted").Fields, Is.EqualTo(new RolloutEventFields("sales-v2", 0)));
        Assert.That((started.Workloads!.Stable.Spec.Replicas, started.Workloads.Canary!.Spec.Replicas), Is.EqualTo(((int?)1, (int?)1)));
        Assert.That(started.Requeue, Is.EqualTo(RolloutDecision.ReadinessPoll), "waiting for canary pods");

        world.Canary = Track("sales-v2", 1);
        var advanced = world.Plan(T0.AddSeconds(1));
        Assert.That(advanced.Status.CurrentStepText, Is.EqualTo("2/2 analysis"));
        Assert.That(advanced.Events.Single(e => e.Reason == "StepCompleted").Fields, Is.EqualTo(new RolloutEventFields("sales-v2", 50, 0)),
            "step 0 (setWeight 50) done: machine-readable for the dashboard, whatever the message says");
        Assert.That(advanced.Requeue, Is.EqualTo(TimeSpan.FromSeconds(10)), "the first measurement waits one interval");
    }

    [Test]
    public void DueMeasurement_IsAskedFor_AndNothingIsAppliedUntilItIsMeasured()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.StableThenCanary();
        world.Plan(T0);

        var asking = world.Plan(T0.AddSeconds(10));
        Assert.That(asking.Measure, Is.Not.Null);
        Assert.That((asking.Workloads, asking.Events.Count), Is.EqualTo(((RolloutWorkloads?)null, 0)));
        Assert.That(asking.Measure!.Canary, Is.EqualTo(new QueryTarget("ml", "sales", "sales", "sales-v2", "canary")));
        Assert.That(asking.Measure.Stable, Is.EqualTo(new QueryTarget("ml", "sales", "sales", "sales-v1", "stable")));

        var measured = world.Plan(T0.AddSeconds(10), Measured(MeasurementPhase.Successful));
        Assert.That(measured.Measure, Is.Null);
        Assert.That(measured.Status.Analysis!.Successful, Is.EqualTo(1));
        Assert.That(measured.Status.Analysis.Measurements!.Single().Message, Is.EqualTo("error-rate=0.01 within max 0.05"));
    }

    [Test]
    public void Plan_IsPure_TheSameObservationGivesTheSamePlan()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.StableThenCanary();
        var observed = new RolloutObservation(world.Owner, world.Versions, world.Stable, world.Canary, null, [], Options);
        var first = RolloutPlanner.Plan(observed, T0.AddSeconds(3));
        var second = RolloutPlanner.Plan(observed, T0.AddSeconds(3));
        Assert.That(KubernetesJson.Serialize(second.Status), Is.EqualTo(KubernetesJson.Serialize(first.Status)));
        Assert.That(second.Events, Is.EqualTo(first.Events));
        Assert.That(world.Owner.Status!.CurrentStep, Is.EqualTo(0), "the observed status is not changed");
    }

    [Test]
    public void RollBack_WhenAFailedMeasurementReachesTheFailureLimit_NamingMetricValueAndThreshold()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.StableThenCanary();
        world.Plan(T0);
        world.Plan(T0.AddSeconds(10), Measured(MeasurementPhase.Failed, 0.5));
        Assert.That(world.Owner.Status!.AbortReason, Is.Null, "one failure of failureLimit 2");

        var plan = world.Plan(T0.AddSeconds(20), Measured(MeasurementPhase.Failed, 0.4));
        AssertRolledBack(plan, "rolled back: error-rate=0.4 above max 0.05 (2 failed measurements, failureLimit 2)");
        Assert.That(plan.Events.Count(e => e.Reason == "AnalysisFailed"), Is.EqualTo(1));
    }

    [Test]
    public void RollBack_WhenStatusAlreadyHoldsFailureLimitFailures_WithoutMeasuringAgain()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.StableThenCanary();
        world.Plan(T0);
        world.Owner.Status!.Analysis = new AnalysisStatus
        {
            Failed = 2, LastMeasurementTime = T0,
            Measurements = [new Measurement { Metric = "error-rate", Phase = "Failed", Message = "error-rate=0.3 above max 0.05" }],
        };

        var plan = world.Plan(T0.AddSeconds(30));
        Assert.That(plan.Measure, Is.Null);
        AssertRolledBack(plan, "error-rate=0.3 above max 0.05");
    }

    [Test]
    public void RollBack_NamesEveryMetricThatFailedInTheLastFailingRound_NotOnlyTheLastOneMeasured()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.StableThenCanary();
        world.Plan(T0);
        world.Owner.Status!.Analysis = new AnalysisStatus
        {
            Failed = 2, LastMeasurementTime = T0.AddSeconds(20),
            Measurements =
            [
                new Measurement { Metric = "error-rate", Phase = "Failed", Message = "error-rate=0.5 above max 0.05", Time = T0.AddSeconds(10) },
                new Measurement { Metric = "error-rate", Phase = "Failed", Message = "error-rate=0.3 above max 0.05", Time = T0.AddSeconds(20) },
                new Measurement { Metric = "latency-p99", Phase = "Failed", Message = "latency-p99=0.5 above max 0.25", Time = T0.AddSeconds(20) },
            ],
        };

        var plan = world.Plan(T0.AddSeconds(30));

        AssertRolledBack(plan, "error-rate=0.3 above max 0.05; latency-p99=0.5 above max 0.25 (2 failed measurements, failureLimit 2)");
        Assert.That(plan.Status.AbortReason, Does.Not.Contain("0.5 above max 0.05"), "only the last failing round");
    }

    [TestCase(0, TestName = "RollBack_OnAbortAnnotation_WhileWaitingForCanaryPods")]
    [TestCase(1, TestName = "RollBack_OnAbortAnnotation_DuringAnalysis")]
    public void RollBack_OnAbortAnnotation(int step)
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.StableThenCanary();
        if (step == 0)
        {
            world.Canary = null;
        }

        world.Plan(T0);
        world.Annotate(ModelDeployment.AbortAnnotation, "now");
        var plan = world.Plan(T0.AddSeconds(1));
        AssertRolledBack(plan, "Rollout of sales-v2 aborted by annotation cd4ml.io/abort");
        Assert.That(plan.Status.HandledRequests![ModelDeployment.AbortAnnotation], Is.EqualTo("now"));
    }

    [Test]
    public void RollBack_OnAbortAnnotation_EvenWhileTheHttpRouteIsMissing()
    {
        var spec = Spec(new CanaryStep { SetWeight = 50 }, new CanaryStep { Pause = new PauseStep() });
        spec.TrafficRouting = new TrafficRouting { Mode = TrafficRoutingMode.GatewayApi, HttpRoute = "public" };
        var world = WorldWith(spec);
        world.Route = new RouteObservation(true, new System.Text.Json.Nodes.JsonObject());
        world.StableThenCanary();
        world.Route = RouteObservation.Missing;
        var held = world.Plan(T0);
        Assert.That(held.Status.Find(ModelDeploymentReconciler.PausedCondition)!.Reason, Is.EqualTo("HTTPRouteNotFound"));

        world.Annotate(ModelDeployment.AbortAnnotation, "1");
        var plan = world.Plan(T0.AddSeconds(1));
        Assert.That(plan.RolledBack, Is.True);
        Assert.That(plan.Status.AbortReason, Does.Contain("aborted by annotation"));
        Assert.That(plan.RouteWeight, Is.Null, "no route to set");
    }

    [Test]
    public void RollBack_OnAbortAnnotation_EvenWhileTheSpecIsInvalid()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.StableThenCanary();
        world.Problems.Add(new SpecProblem(SpecValidation.AnalysisQueryInvalid, "metrics[0].query is not valid PromQL"));
        var held = world.Plan(T0);
        Assert.That(held.Status.Find(ModelDeploymentReconciler.PausedCondition)!.Reason, Is.EqualTo(ModelDeploymentReconciler.InvalidSpecReason));

        world.Annotate(ModelDeployment.AbortAnnotation, "1");
        AssertRolledBack(world.Plan(T0.AddSeconds(1)), "aborted by annotation");
    }

    [Test]
    public void RolledBackVersion_StaysAborted_UntilTheSpecChangesOrRetryIsRequested()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.StableThenCanary();
        world.Annotate(ModelDeployment.AbortAnnotation, "1");
        world.Plan(T0);

        var still = world.Plan(T0.AddSeconds(5));
        Assert.That((still.RolledBack, still.Status.Phase), Is.EqualTo((false, ModelDeploymentStatus.Degraded)), "rolled back once");

        world.Annotate(ModelDeployment.RetryAnnotation, "1");
        var retried = world.Plan(T0.AddSeconds(6));
        Assert.That((retried.Status.AbortReason, retried.Status.CanaryVersion), Is.EqualTo(((string?)null, "sales-v2")));
        Assert.That(retried.Status.Phase, Is.Not.EqualTo(ModelDeploymentStatus.Degraded));
        Assert.That(retried.Events.Single(e => e.Reason == "RolloutStarted").Message, Does.Contain("retry requested"));

        world.Annotate(ModelDeployment.AbortAnnotation, "2");
        world.Plan(T0.AddSeconds(7));
        world.Owner.Metadata.Generation = 2;
        var changed = world.Plan(T0.AddSeconds(8));
        Assert.That(changed.Events.Single(e => e.Reason == "RolloutStarted").Message, Does.Contain("the spec changed"));
    }

    [Test]
    public void AbortWithoutARollout_IsIgnored_AndNeverActsLater()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.Plan(T0);
        world.Annotate(ModelDeployment.AbortAnnotation, "1");
        var plan = world.Plan(T0.AddSeconds(1));
        Assert.That(plan.RolledBack, Is.False);
        Assert.That(plan.Events.Single().Reason, Is.EqualTo("RequestIgnored"));

        world.Stable = Track("sales-v1", 2);
        world.Versions.Add(Version(2));
        var started = world.Plan(T0.AddSeconds(2));
        Assert.That((started.RolledBack, started.Status.CanaryVersion), Is.EqualTo((false, "sales-v2")));
    }

    [TestCase(MeasurementPhase.Inconclusive, "AnalysisInconclusive")]
    [TestCase(MeasurementPhase.Error, "AnalysisError")]
    public void TooLittleEvidence_OrQueryErrors_PauseAtTheirLimit_NeverRollBack(MeasurementPhase phase, string reason)
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.StableThenCanary();
        world.Plan(T0);
        world.Plan(T0.AddSeconds(10), Measured(phase));
        var plan = world.Plan(T0.AddSeconds(20), Measured(phase));
        Assert.That(plan.RolledBack, Is.False);
        Assert.That(plan.Status.AbortReason, Is.Null);
        Assert.That(plan.Status.Find(ModelDeploymentReconciler.PausedCondition)!.Reason, Is.EqualTo(reason));
        Assert.That(plan.Workloads!.Canary!.Spec.Replicas, Is.EqualTo(1), "the canary is held");
    }

    [Test]
    public void TooLittleEvidence_InTheStepsFirstWindow_IsNotCounted_AndTheStepLastsThatMuchLonger()
    {
        // A canary that has just become ready has not served a full window yet: "too few requests" is expected then.
        var world = WorldWith(WarmUpSpec(WeightThenAnalysis));
        world.StableThenCanary();
        world.Plan(T0);
        world.Plan(T0.AddSeconds(10), Measured(MeasurementPhase.Inconclusive));
        var warm = world.Plan(T0.AddSeconds(20), Measured(MeasurementPhase.Inconclusive));
        Assert.That(warm.Status.Find(ModelDeploymentReconciler.PausedCondition)?.Status, Is.Not.EqualTo("True"));
        Assert.That(warm.Status.Analysis!.Inconclusive, Is.Zero);
        Assert.That(warm.Status.Analysis.Measurements!.Select(m => m.Message),
            Has.All.Contains("not counted: the canary has served this step for less than one window, 30s"));

        // From the first full window on they count: inconclusiveLimit 2 pauses at the second.
        var first = world.Plan(T0.AddSeconds(30), Measured(MeasurementPhase.Inconclusive));
        Assert.That(first.Status.Analysis!.Inconclusive, Is.EqualTo(1));
        Assert.That(first.Status.Analysis.Measurements!.Last().Message, Does.Not.Contain("not counted"));
        var paused = world.Plan(T0.AddSeconds(40), Measured(MeasurementPhase.Inconclusive));
        Assert.That(paused.Status.Find(ModelDeploymentReconciler.PausedCondition)!.Reason, Is.EqualTo("AnalysisInconclusive"));
        Assert.That(paused.RolledBack, Is.False);
    }

    [Test]
    public void AnalysisStep_WithAWarmUp_LastsItsDurationAfterTheFirstWindow()
    {
        // 10 s of analysis after a 30 s window measured every 10 s: the step ends 20 s later than without the warm-up.
        var world = WorldWith(WarmUpSpec(new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "10s" } }));
        world.StableThenCanary();
        world.Plan(T0);
        var early = world.Plan(T0.AddSeconds(10), Measured(MeasurementPhase.Successful));
        Assert.That(early.Status.CanaryVersion, Is.EqualTo("sales-v2"), "still analysing");
        world.Plan(T0.AddSeconds(20), Measured(MeasurementPhase.Successful));
        var done = world.Plan(T0.AddSeconds(30), Measured(MeasurementPhase.Successful));
        Assert.That((done.Status.StableVersion, done.Status.CanaryVersion), Is.EqualTo(("sales-v2", (string?)null)));
    }

    [Test]
    public void FailedMeasurements_InTheStepsFirstWindow_StillRollBack()
    {
        var world = WorldWith(WarmUpSpec(WeightThenAnalysis));
        world.StableThenCanary();
        world.Plan(T0);
        world.Plan(T0.AddSeconds(10), Measured(MeasurementPhase.Failed, 0.3));
        var plan = world.Plan(T0.AddSeconds(20), Measured(MeasurementPhase.Failed, 0.3));
        AssertRolledBack(plan, "error-rate=0.3 above max 0.05");
    }

    [Test]
    public void PassingAnalysis_OnTheLastStep_Promotes()
    {
        var world = WorldWith(Spec(new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "10s" } }));
        world.StableThenCanary();
        world.Plan(T0);
        var plan = world.Plan(T0.AddSeconds(10), Measured(MeasurementPhase.Successful));
        Assert.That((plan.Status.StableVersion, plan.Status.CanaryVersion), Is.EqualTo(("sales-v2", (string?)null)));
        Assert.That(plan.Events.Single(e => e.Reason == "Promoted").Fields, Is.EqualTo(new RolloutEventFields("sales-v2", 100)));
        Assert.That(plan.Workloads!.Stable.Spec.Template.Metadata.Labels[ServingWorkloads.VersionLabel], Is.EqualTo("sales-v2"));
        Assert.That(plan.Workloads.Canary, Is.Null, "the canary track scales to zero");
    }

    [Test]
    public void PromoteFullAnnotation_PromotesAtOnce_SkippingEveryRemainingStep()
    {
        var world = WorldWith(Spec([.. WeightThenAnalysis, new CanaryStep { SetWeight = 100 }, new CanaryStep { Pause = new PauseStep() }]));
        world.StableThenCanary();
        world.Plan(T0);
        world.Annotate(ModelDeployment.PromoteFullAnnotation, "1");

        var plan = world.Plan(T0.AddSeconds(1));
        Assert.That(plan.Measure, Is.Null, "nothing left to measure");
        Assert.That((plan.Status.StableVersion, plan.Status.CanaryVersion, plan.RolledBack), Is.EqualTo(("sales-v2", (string?)null, false)));
        Assert.That(plan.Status.History!.Last().Outcome, Is.EqualTo("Promoted"));
        Assert.That(plan.Status.History!.Last().Reason, Is.EqualTo("remaining steps skipped by annotation cd4ml.io/promote-full"));
        Assert.That(plan.Status.HandledRequests![ModelDeployment.PromoteFullAnnotation], Is.EqualTo("1"));
        Assert.That(plan.Workloads!.Stable.Spec.Template.Metadata.Labels[ServingWorkloads.VersionLabel], Is.EqualTo("sales-v2"));
        Assert.That(plan.Workloads.Canary, Is.Null, "the canary track scales to zero");
    }

    [Test]
    public void PromoteFullAnnotation_WithAbortAtTheSameTime_RollsBack()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.StableThenCanary();
        world.Plan(T0);
        world.Annotate(ModelDeployment.PromoteFullAnnotation, "1");
        world.Annotate(ModelDeployment.AbortAnnotation, "1");
        AssertRolledBack(world.Plan(T0.AddSeconds(1)), "aborted by annotation cd4ml.io/abort");
    }

    [Test]
    public void PromoteFullWithoutARollout_IsIgnored_AndNeverActsLater()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.Plan(T0);
        world.Annotate(ModelDeployment.PromoteFullAnnotation, "1");
        Assert.That(world.Plan(T0.AddSeconds(1)).Events.Single().Reason, Is.EqualTo("RequestIgnored"));

        world.Stable = Track("sales-v1", 2);
        world.Versions.Add(Version(2));
        var started = world.Plan(T0.AddSeconds(2));
        Assert.That((started.Status.StableVersion, started.Status.CanaryVersion), Is.EqualTo(("sales-v1", "sales-v2")),
            "the new version is canaried, not promoted by the old request");
    }

    [Test]
    public void InvalidSpec_HoldsANewVersion_WithAWarningOnce()
    {
        var world = WorldWith(Spec(WeightThenAnalysis));
        world.Problems.Add(new SpecProblem(SpecValidation.FaultInjectionNotAllowed, "spec.faultInjection is set"));
        var first = world.Plan(T0);
        Assert.That(first.Status.Find(ModelDeploymentReconciler.InvalidSpecCondition)!.Reason, Is.EqualTo(SpecValidation.FaultInjectionNotAllowed));
        Assert.That(first.Events.Count(e => e.Reason == "InvalidSpec"), Is.EqualTo(1));

        world.Versions.Add(Version(2));
        var held = world.Plan(T0.AddSeconds(1));
        Assert.That(held.Status.CanaryVersion, Is.Null);
        Assert.That(held.Status.Find(ModelDeploymentReconciler.PausedCondition)!.Message, Does.StartWith("the rollout of sales-v2 waits"));
        Assert.That(held.Events.Select(e => e.Reason), Has.None.EqualTo("InvalidSpec"), "said once");
    }
}
