using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Entities;
using Cd4ml.Training;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

/// <summary>dataset.fromFeedback on the operator's side: what the trainer is told and what the ModelVersion records.</summary>
public sealed class ProductionLineageTests
{
    private static readonly OperatorOptions Options = new() { Image = "ghcr.io/cd4ml/cd4ml:test" };

    private static TrainingRun Run(FromFeedbackSpec? fromFeedback) => new()
    {
        Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = "ml", Uid = "uid-1", Generation = 1 },
        Spec = new TrainingRunSpec
        {
            ModelName = "sales-model",
            Dataset = new DatasetSpec { Uri = "s3://data/sales.csv", LabelColumn = "unit_sales", FromFeedback = fromFeedback },
        },
    };

    private static ModelManifest Manifest(ProductionData? production) => new()
    {
        TrainerVersion = "1.0", CreatedAt = DateTimeOffset.UnixEpoch, Task = Cd4ml.Training.MlTask.Regression, Algorithm = TrainingAlgorithm.LightGbm,
        Dataset = new DatasetInfo("s3://data/sales.csv", "sha256:base", 10, 0, 8, 2), LabelColumn = new ColumnDefinition("unit_sales", Cd4ml.Training.ColumnType.Number),
        FeatureColumns = [], Split = new SplitSettings(), Artifacts = new Dictionary<string, ArtifactEntry>(), Production = production,
    };

    [Test]
    public void Job_PassesTheDeploymentsLogPrefix_WindowAndMaxRows_ToTheTrainer()
    {
        var run = Run(new FromFeedbackSpec { Deployment = "sales-api", Window = "36h", MaxRows = 500 });
        var source = TrainingJobBuilder.FromFeedback(run, "s3://logs/ml/sales-api/");
        var job = TrainingJobBuilder.Build(run, 2, Options, source);

        var variable = job.Spec.Template.Spec.Containers.Single().Env.Single(e => e.Name == TrainingSettings.FromFeedbackVariable);
        var environment = new Dictionary<string, string?>
        {
            [TrainingSettings.FromFeedbackVariable] = variable.Value,
            [TrainingSettings.DatasetUriVariable] = "s3://data/sales.csv",
            [TrainingSettings.OutputUriVariable] = "s3://data/out/",
            [TrainingSettings.LabelColumnVariable] = "unit_sales",
        };
        Assert.That(TrainingSettings.FromEnvironment(environment).FromFeedback,
            Is.EqualTo(new FeedbackSource("s3://logs/ml/sales-api/", "sales-model", 36 * 3600, 500, "sales-api")));
    }

    [Test]
    public void Defaults_AWeekAndAMillionRows_AndNoVariableWithoutFromFeedback()
    {
        var source = TrainingJobBuilder.FromFeedback(Run(new FromFeedbackSpec { Deployment = "sales-api" }), "s3://logs/x/")!;
        Assert.That((source.WindowSeconds, source.MaxRows), Is.EqualTo((168L * 3600, 1_000_000)));
        Assert.That(TrainingJobBuilder.FromFeedback(Run(null), "s3://logs/x/"), Is.Null);
        var job = TrainingJobBuilder.Build(Run(null), 1, Options);
        Assert.That(job.Spec.Template.Spec.Containers.Single().Env.Select(e => e.Name), Has.No.Member(TrainingSettings.FromFeedbackVariable));
    }

    [Test]
    public void ModelVersion_LineageProduction_FromTheManifest_ListsAtMost100Objects_AndCountsThemAll()
    {
        var objects = Enumerable.Range(0, 150).Select(i => $"s3://logs/x/predictions/model=sales-model/version=v/date=2026-11-30/hour=10/p-{i:D3}.csv").ToList();
        var production = new ProductionData("s3://logs/x/", "sales-api", 7 * 24 * 3600, 420, objects)
        {
            CuratedDatasetUri = "s3://data/out/sales/2/dataset.csv", CuratedDatasetDigest = "sha256:curated",
        };
        var version = ModelRegistrar.Build(Run(new FromFeedbackSpec { Deployment = "sales-api" }), 2, 3,
            new Registration("s3://data/out/sales/2/model.zip", "abc", new Dictionary<string, double>(), "sha256:base", "img", Manifest(production)));

        var lineage = version.Spec.Lineage!.Production!;
        Assert.That((lineage.Deployment, lineage.CuratedDatasetUri, lineage.Rows, lineage.Window, lineage.Sources),
            Is.EqualTo(("sales-api", "s3://data/out/sales/2/dataset.csv", (long?)420, "168h", (int?)150)));
        Assert.That(lineage.Objects, Is.EqualTo(objects.Take(ModelRegistrar.MaxLineageObjects)));
        Assert.That(version.Spec.Lineage.DatasetDigest, Is.EqualTo("sha256:base"));
        Assert.That(ModelRegistrar.Build(Run(null), 1, 1, new Registration("u", "abc", new Dictionary<string, double>(), null, "img", Manifest(null)))
            .Spec.Lineage!.Production, Is.Null);
    }

    [Test]
    public void ProductionDataCondition_SaysWhatTheAttemptTookFromProduction()
    {
        var curated = TrainingRunReconciler.ProductionDataCondition(2, Manifest(new ProductionData("s3://logs/x/", "sales-api", 5400, 42, ["a", "b"])
        {
            CuratedDatasetUri = "s3://data/out/dataset.csv", CuratedDatasetDigest = "sha256:c",
        }))!;
        Assert.That((curated.Status, curated.Reason), Is.EqualTo((Condition.True, TrainingRunReconciler.DatasetCurated)));
        Assert.That(curated.Message, Is.EqualTo(
            "Attempt 2 trained on s3://data/out/dataset.csv (sha256:c): the dataset and 42 production rows from 2 log and feedback objects (window 90m)."));

        var none = TrainingRunReconciler.ProductionDataCondition(3, Manifest(new ProductionData("s3://logs/x/", "sales-api", 3600, 0, ["a"])))!;
        Assert.That((none.Status, none.Reason), Is.EqualTo((Condition.False, TrainingRunReconciler.NoProductionData)));
        Assert.That(none.Message, Is.EqualTo("No logged prediction with feedback in the last 1h under s3://logs/x/ (1 objects read); attempt 3 trained on the dataset alone."));
        Assert.That(TrainingRunReconciler.ProductionDataCondition(1, Manifest(null)), Is.Null);
    }

    [Test]
    public void WatchedDeployments_MapADeploymentToTheRunsNamingIt_InItsNamespace()
    {
        var watched = new WatchedDeployments();
        var drift = new TrainingRunSpec { Dataset = new DatasetSpec(), RetrainOn = new RetrainOnSpec { Drift = new DriftTrigger { Deployment = "api" } } };
        var feedback = new TrainingRunSpec { Dataset = new DatasetSpec { FromFeedback = new FromFeedbackSpec { Deployment = "api" } } };
        watched.Set(new NamespacedName("ml", "a"), drift);
        watched.Set(new NamespacedName("ml", "b"), feedback);
        watched.Set(new NamespacedName("other", "c"), drift);
        watched.Set(new NamespacedName("ml", "d"), new TrainingRunSpec { Dataset = new DatasetSpec() });
        var deployment = new ModelDeployment { Metadata = new V1ObjectMeta { Name = "api", NamespaceProperty = "ml" } };

        Assert.That(watched.RunsWatching(deployment).Select(k => k.Name).Order(), Is.EqualTo(new[] { "a", "b" }));
        watched.Set(new NamespacedName("ml", "a"), new TrainingRunSpec { Dataset = new DatasetSpec() });
        watched.Remove(new NamespacedName("ml", "b"));
        Assert.That(watched.RunsWatching(deployment), Is.Empty);
    }
}
