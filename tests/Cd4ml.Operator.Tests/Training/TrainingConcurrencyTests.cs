using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Entities;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

public sealed class TrainingConcurrencyTests
{
    private static V1Job Job(string runUid, string? finished = null, bool managed = true) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "job-" + runUid,
            Labels = managed
                ? new Dictionary<string, string> { [TrainingJobBuilder.ManagedByLabel] = TrainingJobBuilder.ManagedBy, [TrainingJobBuilder.RunLabel] = runUid }
                : new Dictionary<string, string> { ["app"] = "etl" },
            OwnerReferences = managed ? [new V1OwnerReference { Controller = true, Uid = runUid, Kind = "TrainingRun", Name = runUid, ApiVersion = "cd4ml.io/v1alpha1" }] : null,
        },
        Status = new V1JobStatus
        {
            Conditions = finished is null ? null : [new V1JobCondition { Type = finished, Status = "True" }],
        },
    };

    [Test]
    public void Active_CountsUnfinishedTrainingJobs_OfOtherRuns()
    {
        var jobs = new[]
        {
            Job("a"), Job("b"), Job("c", finished: "Complete"), Job("d", finished: "Failed"), Job("e", managed: false), Job("self"),
        };

        Assert.That(TrainingConcurrency.Active(jobs, "self"), Is.EqualTo(2));
    }

    [Test]
    public void WaitReason_AtTheLimit_SaysHowManyRunWhereAndWhereTheLimitComesFrom()
    {
        var reason = TrainingConcurrency.WaitReason(2, 2, 0, "team-a");

        Assert.That(reason, Does.StartWith("2 of 2 training attempts running in namespace team-a"));
        Assert.That(reason, Does.Contain("cd4ml-defaults key training.maxConcurrent"));
        Assert.That(reason, Does.Contain("CD4ML_MAX_CONCURRENT_TRAINING"));
    }

    [TestCase(null, 10)]
    [TestCase(0, 10)]
    [TestCase(2, 1)]
    public void WaitReason_BelowTheLimitOrUnlimited_IsNone(int? limit, int active)
    {
        Assert.That(TrainingConcurrency.WaitReason(limit, active, 0, "team-a"), Is.Null);
    }

    private static readonly DateTime T0 = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    private static TrainingRun Run(string name, int? queuedMinutesAgo = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Uid = "uid-" + name, CreationTimestamp = T0.AddHours(-1) },
        Status = queuedMinutesAgo is { } ago
            ? new TrainingRunStatus
            {
                Phase = TrainingRunStatus.Queued,
                Conditions = [new Condition { Type = Conditions.Ready, Status = Condition.False, Reason = "Queued", LastTransitionTime = T0.AddMinutes(-ago) }],
            }
            : null,
    };

    [Test]
    public void QueuedAhead_CountsQueuedRunsThatWaitedLonger_OldestFirst()
    {
        var runs = new[] { Run("oldest", 30), Run("middle", 20), Run("young", 10), Run("running") };

        Assert.That(TrainingConcurrency.QueuedAhead(runs, runs[0]), Is.EqualTo(0));
        Assert.That(TrainingConcurrency.QueuedAhead(runs, runs[1]), Is.EqualTo(1));
        Assert.That(TrainingConcurrency.QueuedAhead(runs, runs[2]), Is.EqualTo(2));
    }

    [Test]
    public void QueuedAhead_ARunNotQueuedYet_JoinsTheEndOfTheQueue()
    {
        var newcomer = Run("newcomer");
        var runs = new[] { Run("a", 5), Run("b", 1), newcomer, Run("running") };

        Assert.That(TrainingConcurrency.QueuedAhead(runs, newcomer), Is.EqualTo(2));
    }

    [Test]
    public void QueuedAhead_SameQueueTime_TheNameBreaksTheTie()
    {
        var runs = new[] { Run("b", 5), Run("a", 5) };

        Assert.That((TrainingConcurrency.QueuedAhead(runs, runs[0]), TrainingConcurrency.QueuedAhead(runs, runs[1])), Is.EqualTo((1, 0)));
    }

    [Test]
    public void WaitReason_AFreeSlotWithAnOlderQueuedRun_WaitsAndSaysWhy()
    {
        Assert.That(TrainingConcurrency.WaitReason(2, 1, 0, "team-a"), Is.Null, "a free slot and nobody ahead");

        var reason = TrainingConcurrency.WaitReason(2, 1, 1, "team-a");

        Assert.That(reason, Does.StartWith("1 of 2 training attempts running in namespace team-a"));
        Assert.That(reason, Does.Contain("1 queued run waiting longer goes first"));
    }
}
