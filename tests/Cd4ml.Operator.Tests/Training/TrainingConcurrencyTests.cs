using Cd4ml.Operator.Training;
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
        var reason = TrainingConcurrency.WaitReason(2, 2, "team-a");

        Assert.That(reason, Does.StartWith("2 of 2 training attempts running in namespace team-a"));
        Assert.That(reason, Does.Contain("cd4ml-defaults key training.maxConcurrent"));
        Assert.That(reason, Does.Contain("CD4ML_MAX_CONCURRENT_TRAINING"));
    }

    [TestCase(null, 10)]
    [TestCase(0, 10)]
    [TestCase(2, 1)]
    public void WaitReason_BelowTheLimitOrUnlimited_IsNone(int? limit, int active)
    {
        Assert.That(TrainingConcurrency.WaitReason(limit, active, "team-a"), Is.Null);
    }
}
