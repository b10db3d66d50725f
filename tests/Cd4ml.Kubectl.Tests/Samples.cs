using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Entities;
using k8s.Models;

namespace Cd4ml.Kubectl.Tests;

/// <summary>Resources with the statuses the operator writes: a run with two attempts, its two versions, a canary in analysis.</summary>
internal static class Samples
{
    public const string DigestA = "sha256:1111aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff7777aaaa8888bbbb";
    public const string DigestB = "sha256:9999aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff7777aaaa8888bbbb";
    private static readonly DateTime Started = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    public static TrainingRun Run(string name, Algorithm algorithm, string leaves, double rmse) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new TrainingRunSpec
        {
            ModelName = "sales",
            Dataset = new DatasetSpec { Uri = "s3://data/sales/2026-11.csv", LabelColumn = "units" },
            Trainer = new TrainerSpec { Algorithm = algorithm, Hyperparameters = new() { ["numberOfLeaves"] = leaves } },
        },
        Status = new TrainingRunStatus
        {
            Phase = TrainingRunStatus.Succeeded,
            Attempt = 2,
            JobName = $"{name}-2",
            Headline = $"rmse={rmse}",
            Metrics = new() { ["rmse"] = rmse, ["r2"] = 0.91, ["worstSlice.rmse"] = 0.48, ["slice.store.7.rmse"] = 0.48, ["trainRows"] = 8000 },
            Gates =
            [
                new GateResult { Metric = "rmse", Comparison = nameof(Comparison.LessThan), Threshold = 0.5, Value = rmse, Passed = true },
                new GateResult { Metric = "worstSlice.rmse", Comparison = nameof(Comparison.LessThan), Threshold = 0.6, Value = 0.48, Passed = true },
            ],
            GatesSummary = "2/2 passed",
            DatasetDigest = DigestB,
            ModelVersion = "sales-2",
            History =
            [
                new AttemptRecord { Attempt = 1, JobName = $"{name}-1", Phase = TrainingRunStatus.Succeeded, Headline = "rmse=0.45",
                    DatasetDigest = DigestA, ModelVersion = "sales-1", StartTime = Started },
                new AttemptRecord { Attempt = 2, JobName = $"{name}-2", Phase = TrainingRunStatus.Succeeded, Headline = $"rmse={rmse}",
                    DatasetDigest = DigestB, ModelVersion = "sales-2", StartTime = Started.AddHours(1) },
            ],
        },
    };

    public static ModelVersion Version(int version, string run, string leaves, string digest, double rmse, bool approved) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"sales-{version}" },
        Spec = new ModelVersionSpec
        {
            ModelName = "sales",
            Version = version,
            Approved = approved,
            Task = MlTask.Regression,
            Artifact = new ArtifactSpec { Uri = $"s3://data/cd4ml/models/sales/{run}/{version}/model.zip", Sha256 = new string('a', 64) },
            Metrics = new() { ["rmse"] = rmse, ["r2"] = rmse < 0.43 ? 0.91 : 0.89, ["slice.store.7.rmse"] = rmse + 0.07, ["trainRows"] = 8000 },
            Lineage = new Lineage
            {
                TrainingRun = run, Attempt = version, DatasetUri = "s3://data/sales/2026-11.csv", DatasetDigest = digest,
                Algorithm = "LightGbm", Parameters = new() { ["numberOfLeaves"] = leaves },
            },
        },
        Status = new ModelVersionStatus
        {
            Phase = ModelVersionStatus.Ready,
            Validated = true,
            Headline = $"rmse={rmse}",
            ServedBy = approved ? ["sales-api"] : null,
        },
    };

    public static ModelDeployment CanaryInAnalysis() => new()
    {
        Metadata = new V1ObjectMeta { Name = "sales-api" },
        Spec = new ModelDeploymentSpec { ModelName = "sales", Replicas = 4 },
        Status = new ModelDeploymentStatus
        {
            Phase = ModelDeploymentStatus.Progressing,
            StableVersion = "sales-1",
            CanaryVersion = "sales-2",
            CurrentStep = 1,
            CurrentStepText = "2/4 analysis",
            CanaryWeight = 20,
            StepStartTime = Started,
            Analysis = new AnalysisStatus
            {
                Successful = 1,
                Failed = 1,
                LastMeasurementTime = Started.AddSeconds(60),
                Measurements =
                [
                    new Measurement { Metric = "error-rate", Phase = "Successful", Value = 0.01, Threshold = "max 0.05", SampleCount = 240,
                        Message = "error-rate=0.01 within max 0.05", Time = Started.AddSeconds(30) },
                    new Measurement { Metric = "latency-p99", Phase = "Successful", Value = 0.4, Threshold = "max 1", SampleCount = 240,
                        Message = "latency-p99=0.4 within max 1", Time = Started.AddSeconds(30) },
                    new Measurement { Metric = "error-rate", Phase = "Successful", Value = 0.012, Threshold = "max 0.05", SampleCount = 250,
                        Message = "error-rate=0.012 within max 0.05", Time = Started.AddSeconds(60) },
                    new Measurement { Metric = "latency-p99", Phase = "Failed", Value = 1.4, Threshold = "max 1", SampleCount = 250,
                        Message = "latency-p99=1.4 above max 1", Time = Started.AddSeconds(60) },
                ],
            },
            History = [new RolloutRecord { Version = "sales-1", Outcome = "Deployed", Reason = "first version of this deployment", Time = Started }],
            Conditions =
            [
                new Condition { Type = "Ready", Status = Condition.True, Reason = "StableReady", Message = "stable is ready", LastTransitionTime = Started },
                new Condition { Type = "Paused", Status = Condition.False, Reason = "NotPaused", Message = "the rollout is not paused", LastTransitionTime = Started },
            ],
        },
    };
}
