using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Entities;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

public sealed class RetrainDecisionTests
{
    private static readonly DateTime Now = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    private static readonly DriftTrigger Trigger = new() { Deployment = "sales-api" };

    private static Condition Drifting(DateTime since, string status = Condition.True) => new()
    {
        Type = RetrainDecision.DriftingCondition, Status = status, Reason = "FeatureDrift",
        Message = "feature store_nbr PSI 0.41 > 0.2", LastTransitionTime = since,
    };

    private static AttemptRecord Attempt(int number, DateTime start, string trigger = "Spec") =>
        new() { Attempt = number, StartTime = start, Trigger = trigger, Phase = TrainingRunStatus.Succeeded };

    [Test]
    public void NotDrifting_OrNoCondition_DoesNothing()
    {
        var history = new[] { Attempt(1, Now.AddDays(-2)) };
        Assert.That(RetrainDecision.Decide(Trigger, null, history, Now).Action, Is.EqualTo(RetrainAction.None));
        var verdict = RetrainDecision.Decide(Trigger, Drifting(Now.AddMinutes(-5), Condition.False), history, Now);
        Assert.That(verdict.Action, Is.EqualTo(RetrainAction.None));
        Assert.That(verdict.Message, Is.EqualTo("Deployment sales-api is not drifting."));
    }

    [Test]
    public void Drifting_SinceAfterTheLastAttempt_StartsWithTheConditionsMessage()
    {
        var verdict = RetrainDecision.Decide(Trigger, Drifting(Now.AddMinutes(-5)), [Attempt(1, Now.AddDays(-2))], Now);
        Assert.That(verdict.Action, Is.EqualTo(RetrainAction.Start));
        Assert.That(verdict.Message, Is.EqualTo("Deployment sales-api is drifting: feature store_nbr PSI 0.41 > 0.2"));
    }

    [Test]
    public void StaleCondition_AnAttemptStartedSinceTheDriftBegan_DoesNotStartAgain()
    {
        var verdict = RetrainDecision.Decide(Trigger, Drifting(Now.AddHours(-3)),
            [Attempt(1, Now.AddDays(-2)), Attempt(2, Now.AddHours(-2), RetrainDecision.DriftTrigger)], Now);
        Assert.That(verdict.Action, Is.EqualTo(RetrainAction.None));
        Assert.That(verdict.Message, Does.Contain("already covers it"));
    }

    [Test]
    public void NewDriftWithinMinInterval_DefersUntilTheIntervalHasPassed_SinceThePreviousAttemptStarted()
    {
        var previous = Now.AddMinutes(-20);
        var verdict = RetrainDecision.Decide(Trigger, Drifting(Now.AddMinutes(-1)), [Attempt(1, previous, RetrainDecision.DriftTrigger)], Now);
        Assert.That(verdict.Action, Is.EqualTo(RetrainAction.Defer));
        Assert.That(verdict.NotBefore, Is.EqualTo(previous.AddHours(1)), "default minInterval 1h");
        Assert.That(verdict.Reason, Is.EqualTo(RetrainDecision.MinIntervalReason));
        Assert.That(verdict.Message, Does.Contain("next attempt allowed at 2026-11-30T12:40:00Z").And.Contain("minInterval 1h"));
    }

    [Test]
    public void MinInterval_CountsAttemptsOfAnyTrigger_AndHonoursTheSpec()
    {
        var trigger = new DriftTrigger { Deployment = "sales-api", MinInterval = "10m" };
        var verdict = RetrainDecision.Decide(trigger, Drifting(Now.AddMinutes(-1)), [Attempt(1, Now.AddMinutes(-5), "DatasetChange")], Now);
        Assert.That((verdict.Action, verdict.NotBefore), Is.EqualTo((RetrainAction.Defer, (DateTime?)Now.AddMinutes(5))));
        Assert.That(RetrainDecision.Decide(trigger, Drifting(Now.AddMinutes(-1)), [Attempt(1, Now.AddMinutes(-11), "DatasetChange")], Now).Action,
            Is.EqualTo(RetrainAction.Start));
    }

    [Test]
    public void MaxPerDayReached_DefersUntilTheOldestCountedAttemptLeavesThe24HourWindow()
    {
        var trigger = new DriftTrigger { Deployment = "sales-api", MinInterval = "1m", MaxPerDay = 2 };
        var history = new[]
        {
            Attempt(1, Now.AddHours(-30), RetrainDecision.DriftTrigger), // outside the window: not counted
            Attempt(2, Now.AddHours(-20), RetrainDecision.DriftTrigger),
            Attempt(3, Now.AddHours(-6), "Spec"), // not drift-triggered: not counted
            Attempt(4, Now.AddHours(-2), RetrainDecision.DriftTrigger),
        };
        var verdict = RetrainDecision.Decide(trigger, Drifting(Now.AddMinutes(-1)), history, Now);
        Assert.That(verdict.Action, Is.EqualTo(RetrainAction.Defer));
        Assert.That(verdict.Reason, Is.EqualTo(RetrainDecision.MaxPerDayReason));
        Assert.That(verdict.NotBefore, Is.EqualTo(Now.AddHours(4)), "attempt 2 leaves the window 24h after it started");
        Assert.That(verdict.Message, Does.Contain("2 drift-triggered attempts in the last 24h (retrainOn.drift.maxPerDay 2)"));

        var allowed = RetrainDecision.Decide(trigger, Drifting(Now.AddMinutes(-1)), history, Now.AddHours(4).AddSeconds(1));
        Assert.That(allowed.Action, Is.EqualTo(RetrainAction.Start));
    }

    [Test]
    public void BothGuards_DeferUntilTheLaterOfTheTwo()
    {
        var trigger = new DriftTrigger { Deployment = "sales-api", MinInterval = "3h", MaxPerDay = 1 };
        var history = new[] { Attempt(1, Now.AddHours(-23), RetrainDecision.DriftTrigger), Attempt(2, Now.AddHours(-1)) };
        var verdict = RetrainDecision.Decide(trigger, Drifting(Now.AddMinutes(-1)), history, Now);
        Assert.That(verdict.NotBefore, Is.EqualTo(Now.AddHours(2)), "minInterval (2h from now) outlasts maxPerDay (1h from now)");
        Assert.That(verdict.Reason, Is.EqualTo(RetrainDecision.MinIntervalReason));
        Assert.That(verdict.Message, Does.Contain("minInterval 3h").And.Contain("maxPerDay 1"));
    }

    [Test]
    public void NoAttemptYet_DriftStartsOne()
    {
        Assert.That(RetrainDecision.Decide(Trigger, Drifting(Now.AddMinutes(-1)), [], Now).Action, Is.EqualTo(RetrainAction.Start));
    }
}
