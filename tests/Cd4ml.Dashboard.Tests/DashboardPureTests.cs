using System.Text.Json;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Dashboard;
using Cd4ml.Operator.Rollouts;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Dashboard.Tests;

/// <summary>The dashboard's pure parts: the rollout timeline, the chart renderer and the monitoring section.</summary>
public sealed class DashboardPureTests
{
    private static readonly DateTime T0 = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    private static readonly List<CanaryStep> Plan =
    [
        new() { SetWeight = 10 }, new() { Pause = new PauseStep { Duration = "1m" } }, new() { SetWeight = 40 },
        new() { Analysis = new AnalysisStep() },
    ];

    [Test]
    public void Timeline_OrdersEventsByTime_AndEndsAtTheCanarysWeightNow()
    {
        var deployment = Deployment(new ModelDeploymentStatus
        {
            CanaryVersion = "m-v2", CanaryWeight = 40, CurrentStepText = "4/4 analysis",
            History = [new RolloutRecord { Version = "m-v1", Outcome = "Promoted", Time = T0.AddDays(-1) }],
        });
        var events = new[]
        {
            Event("StepCompleted", "Step 3/4 setWeight 40 of m-v2: weight 40 reached", T0.AddMinutes(3), new("m-v2", 40, 2)),
            Event("RolloutStarted", "Rolling out m-v2 as canary of m-v1 (traffic routing ReplicaRatio): new version", T0,
                new("m-v2", 0)),
            Event("StepCompleted", "Step 1/4 setWeight 10 of m-v2: weight 10 reached", T0.AddMinutes(1), new("m-v2", 10, 0)),
            Event("Deployed", "Serving m-v1 on the stable track", T0.AddDays(-2)),
        };

        var timeline = RolloutTimeline.Build(deployment, events, T0.AddMinutes(5));

        Assert.That(timeline.Steps.Select(s => (s.Time, s.Weight)), Is.EqualTo(new[]
        {
            (T0, 0), (T0.AddMinutes(1), 10), (T0.AddMinutes(3), 40), (T0.AddMinutes(5), 40),
        }));
        Assert.That(timeline.Steps[0].Label, Does.Contain("m-v2"));
        Assert.That(timeline.Outcomes, Is.Empty, "yesterday's promotion lies before this rollout");
    }

    [Test]
    public void Timeline_ReadsStepsFromTheEventsFields_NotFromTheirWording()
    {
        var deployment = Deployment(new ModelDeploymentStatus());
        var events = new[]
        {
            Event("RolloutStarted", "Canary m-v2 is now being rolled out", T0, new("m-v2", 0)),
            Event("StepCompleted", "Der Kanarienvogel hat 30 Prozent erreicht", T0.AddMinutes(1), new("m-v2", 30, 0)),
            Event("Promoted", "m-v2 is the new stable version", T0.AddMinutes(2), new("m-v2", 100)),
        };

        var timeline = RolloutTimeline.Build(deployment, events, T0.AddMinutes(5));

        Assert.That(timeline.Steps.Select(s => (s.Time, s.Weight)), Is.EqualTo(new[]
        {
            (T0, 0), (T0.AddMinutes(1), 30), (T0.AddMinutes(2), 100),
        }), "the weight comes from the event, not from the spec's steps (10 and 40) nor the message");
        Assert.That(timeline.Steps[0].Label, Is.EqualTo("rollout of m-v2 started"));
        Assert.That(timeline.Steps[1].Label, Is.EqualTo("Der Kanarienvogel hat 30 Prozent erreicht"), "the message stays the label");
    }

    [Test]
    public void Timeline_WithinOneSecond_OrdersStartThenStepsThenTheEnd()
    {
        var deployment = Deployment(new ModelDeploymentStatus());
        var events = new[]
        {
            Event("Promoted", "promoted", T0, new("m-v2", 100)),
            Event("StepCompleted", "step 3", T0, new("m-v2", 40, 2)),
            Event("StepCompleted", "step 1", T0, new("m-v2", 10, 0)),
            Event("RolloutStarted", "started", T0, new("m-v2", 0)),
        };

        var timeline = RolloutTimeline.Build(deployment, events, T0);

        Assert.That(timeline.Steps.Select(s => s.Weight), Is.EqualTo(new[] { 0, 10, 40, 100 }),
            "event times have whole seconds, and a fast rollout fits into one");
    }

    [Test]
    public void Timeline_SkipsRolloutEventsWithoutFields_EvenWhenTheirWordingLooksRight()
    {
        var deployment = Deployment(new ModelDeploymentStatus());
        var events = new[]
        {
            Event("RolloutStarted", "Rolling out m-v2 as canary of m-v1 (traffic routing ReplicaRatio): new version", T0),
            Event("StepCompleted", "Step 1/4 setWeight 10 of m-v2: weight 10 reached", T0.AddMinutes(1)),
            Event("StepCompleted", "Step 3/4 setWeight 40 of m-v2: weight 40 reached", T0.AddMinutes(3), new("m-v2", 40, 2)),
            WithAnnotation(Event("StepCompleted", "Step 4/4 analysis", T0.AddMinutes(4), new("m-v2", 40, 3)),
                RolloutEventFields.WeightAnnotation, "forty"),
        };

        var timeline = RolloutTimeline.Build(deployment, events, T0.AddMinutes(5));

        Assert.That(timeline.Steps.Select(s => (s.Time, s.Weight)), Is.EqualTo(new[] { (T0.AddMinutes(3), 40) }),
            "events recorded before the fields existed, or with an unreadable weight, are skipped, never guessed");
    }

    [Test]
    public void Timeline_WithoutEvents_StillShowsEveryOutcomeFromHistory()
    {
        var deployment = Deployment(new ModelDeploymentStatus
        {
            History =
            [
                new RolloutRecord { Version = "m-v2", Outcome = "RolledBack", Reason = "error-rate above max", Time = T0 },
                new RolloutRecord { Version = "m-v1", Outcome = "Promoted", Time = T0.AddDays(-1) },
            ],
        });

        var timeline = RolloutTimeline.Build(deployment, [], T0.AddHours(2));

        Assert.That(timeline.Steps, Is.Empty);
        Assert.That(timeline.Outcomes.Select(o => (o.Outcome, o.Version)), Is.EqualTo(new[] { ("Promoted", "m-v1"), ("RolledBack", "m-v2") }));
    }

    [Test]
    public void Chart_DrawsPointsInsideThePlot_LinesAtTheirY_AndEncodesText()
    {
        var svg = SvgChart.Render(new ChartSpec("c", "auc <by> version", "d")
        {
            Points = [new ChartPoint(1, 0.5, "a"), new ChartPoint(2, 0.9, "b", Data: new Dictionary<string, string> { ["name"] = "x\"y" })],
            Lines = [new ChartLine(0.7, "gate ≥ 0.7", "gate")],
        });

        Assert.That(svg, Does.Contain("auc &lt;by&gt; version"));
        Assert.That(svg, Does.Contain("data-name=\"x&quot;y\""));
        Assert.That(svg, Does.Contain("data-y=\"0.7\""));
        Assert.That(svg, Does.Contain("data-x=\"1\" data-y=\"0.5\"").And.Contain("data-x=\"2\" data-y=\"0.9\""));
    }

    [Test]
    public void Monitoring_ListsOfObjectsBecomeTables_AndAbsenceIsAMarkedPlaceholder()
    {
        var monitoring = JsonSerializer.SerializeToElement(new
        {
            liveQuality = new[] { new { metric = "accuracy", value = 0.93, phase = "Healthy" } },
            drift = new[] { new { feature = "age", score = 0.41 }, new { feature = "income", score = 0.02 } },
            lastEvaluated = "2026-11-30T12:00:00Z",
        });

        var html = MonitoringSection.Render(monitoring);

        Assert.That(html, Does.Contain("<table class=\"monitoring\" data-field=\"liveQuality\">"));
        Assert.That(html, Does.Contain("<th scope=\"col\">feature</th><th scope=\"col\">score</th>"));
        Assert.That(html, Does.Contain("<td>income</td><td>0.02</td>"));
        Assert.That(html, Does.Contain("data-field=\"lastEvaluated\""));
        Assert.That(html, Does.Not.Contain("monitoring-placeholder"));
        Assert.That(MonitoringSection.Render(null), Does.Contain("id=\"monitoring-placeholder\""));
    }

    [Test]
    public void RolloutPage_SaysWhatItCouldNotRead_AndStillRendersWhatItHas()
    {
        var deployment = Deployment(new ModelDeploymentStatus { Phase = "Healthy", StableVersion = "m-v1" });

        var html = RolloutPage.Render(deployment, [], null, T0, ["Could not read events: Forbidden"], refreshSeconds: 0);

        Assert.That(html, Does.Contain("<p class=\"alert read-problem\" role=\"alert\">Could not read events: Forbidden</p>"));
        Assert.That(html, Does.Contain("m-v1").And.Contain("monitoring-placeholder"));
        Assert.That(html, Does.Not.Contain("http-equiv=\"refresh\""));
    }

    private static ModelDeployment Deployment(ModelDeploymentStatus status) => new()
    {
        Metadata = new V1ObjectMeta { Name = "m", NamespaceProperty = "ns" },
        Spec = new ModelDeploymentSpec { ModelName = "m", Strategy = new RolloutStrategy { Canary = new CanaryStrategy { Steps = Plan } } },
        Status = status,
    };

    private static Corev1Event Event(string reason, string message, DateTime time, RolloutEventFields? fields = null) => new()
    {
        Metadata = new V1ObjectMeta { Annotations = fields?.ToAnnotations().ToDictionary() },
        Reason = reason, Message = message, LastTimestamp = time, FirstTimestamp = time,
    };

    private static Corev1Event WithAnnotation(Corev1Event e, string key, string value)
    {
        e.Metadata.Annotations[key] = value;
        return e;
    }

    [Test]
    public void ThresholdOf_AMetricFromATemplate_TakesMaxAndMinFromTheMeasurementsThreshold()
    {
        var metric = RolloutPage.ThresholdOf("platform-error-rate", "max 0.05, min 0.001, max +0.5 over stable");

        Assert.That((metric!.Max, metric.Min), Is.EqualTo(((double?)0.05, (double?)0.001)));
        Assert.That(RolloutPage.ThresholdOf("x", "max +0.5 over stable"), Is.Null, "no absolute bound to draw");
        Assert.That(RolloutPage.ThresholdOf("x", null), Is.Null);
    }
}
