using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Training;
using Cd4ml.Training;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

public sealed class TrainingJobBuilderTests
{
    private static readonly OperatorOptions Options = new() { Image = "ghcr.io/cd4ml/cd4ml:test" };

    private static TrainingRun Run(Action<TrainingRunSpec>? configure = null)
    {
        var run = new TrainingRun
        {
            Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = "ml", Uid = "uid-1", Generation = 3 },
            Spec = new TrainingRunSpec
            {
                ModelName = "sales-model",
                Dataset = new DatasetSpec
                {
                    Uri = "s3://data/sales/2026-11.csv",
                    LabelColumn = "unit_sales",
                    Columns =
                    [
                        new ColumnSpec { Name = "date", Type = Api.V1Alpha1.ColumnType.Date },
                        new ColumnSpec { Name = "unit_sales", Type = Api.V1Alpha1.ColumnType.Number, Min = 0 },
                    ],
                    Split = new SplitSpec { Method = Api.V1Alpha1.SplitMethod.Time, TimeColumn = "date", ValidationFraction = 0.25 },
                    SliceColumns = ["date"],
                },
                Trainer = new TrainerSpec { Algorithm = Algorithm.LightGbm, Hyperparameters = new() { ["numberOfTrees"] = "50" } },
                Storage = new S3StorageSpec { SecretRef = new SecretReference { Name = "s3" }, Endpoint = "http://minio:9000", Region = "eu-west-1" },
            },
        };
        configure?.Invoke(run.Spec);
        return run;
    }

    private static V1Container Container(V1Job job) => job.Spec.Template.Spec.Containers.Single();

    [Test]
    public void Job_CarriesTheRunsKueueLabels_SoKueueAdmitsItFromTheTeamsQueue()
    {
        var run = Run();
        run.Metadata.Labels = new Dictionary<string, string>
        {
            [TrainingJobBuilder.KueueQueueLabel] = "team-a-queue",
            [TrainingJobBuilder.KueuePriorityClassLabel] = "low",
            ["team"] = "a",
        };

        var job = TrainingJobBuilder.Build(run, 1, Options);

        Assert.That(job.Metadata.Labels[TrainingJobBuilder.KueueQueueLabel], Is.EqualTo("team-a-queue"));
        Assert.That(job.Metadata.Labels[TrainingJobBuilder.KueuePriorityClassLabel], Is.EqualTo("low"));
        Assert.That(job.Metadata.Labels, Does.Not.ContainKey("team"), "only the labels Kueue reads are passed through");
        Assert.That(TrainingJobBuilder.Build(Run(), 1, Options).Metadata.Labels.Keys, Has.None.StartsWith("kueue.x-k8s.io/"));
    }

    [Test]
    public void Job_IsControlledByTheRun_AndLabelledWithRunAttemptAndModel()
    {
        var job = TrainingJobBuilder.Build(Run(), 2, Options);

        Assert.That(job.Metadata.Name, Is.EqualTo("sales-2"));
        Assert.That(job.Metadata.NamespaceProperty, Is.EqualTo("ml"));
        var owner = job.Metadata.OwnerReferences.Single();
        Assert.That((owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller, owner.BlockOwnerDeletion),
            Is.EqualTo(("cd4ml.io/v1alpha1", "TrainingRun", "sales", "uid-1", (bool?)true, (bool?)true)));
        foreach (var labels in new[] { job.Metadata.Labels, job.Spec.Template.Metadata.Labels })
        {
            Assert.That(labels[TrainingJobBuilder.RunLabel], Is.EqualTo("sales"));
            Assert.That(labels[TrainingJobBuilder.AttemptLabel], Is.EqualTo("2"));
            Assert.That(labels[TrainingJobBuilder.ModelLabel], Is.EqualTo("sales-model"));
        }
    }

    [Test]
    public void Job_Defaults()
    {
        var job = TrainingJobBuilder.Build(Run(), 1, Options);

        Assert.That(job.Spec.BackoffLimit, Is.EqualTo(1));
        Assert.That(job.Spec.ActiveDeadlineSeconds, Is.EqualTo(3600));
        Assert.That(job.Spec.TtlSecondsAfterFinished, Is.EqualTo(3600));
        Assert.That(job.Spec.Template.Spec.RestartPolicy, Is.EqualTo("Never"));
        Assert.That(Container(job).Image, Is.EqualTo("ghcr.io/cd4ml/cd4ml:test"));
        Assert.That(Container(job).Args, Is.EqualTo(new[] { "train" }));
        Assert.That(Container(job).Command, Is.Null);
        Assert.That(Container(job).TerminationMessagePolicy, Is.EqualTo("FallbackToLogsOnError"));
        Assert.That(Container(job).TerminationMessagePath, Is.EqualTo("/dev/termination-log"));
    }

    [Test]
    public void Job_CarriesTheRunsSchedulingAndLimits()
    {
        var job = TrainingJobBuilder.Build(Run(s =>
        {
            s.BackoffLimit = 0;
            s.ActiveDeadlineSeconds = 60;
            s.TtlSecondsAfterFinished = 10;
            s.ServiceAccountName = "trainer";
            s.NodeSelector = new() { ["gpu"] = "true" };
            s.Tolerations = [new V1Toleration { Key = "gpu", OperatorProperty = "Exists" }];
            s.Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("2Gi") } };
            s.Trainer!.Image = "example.com/my-trainer:1";
            s.Trainer.Command = ["python", "train.py"];
        }), 1, Options);

        Assert.That(job.Spec.BackoffLimit, Is.EqualTo(0));
        Assert.That(job.Spec.ActiveDeadlineSeconds, Is.EqualTo(60));
        Assert.That(job.Spec.TtlSecondsAfterFinished, Is.EqualTo(10));
        Assert.That(job.Spec.Template.Spec.ServiceAccountName, Is.EqualTo("trainer"));
        Assert.That(job.Spec.Template.Spec.NodeSelector["gpu"], Is.EqualTo("true"));
        Assert.That(job.Spec.Template.Spec.Tolerations.Single().Key, Is.EqualTo("gpu"));
        Assert.That(Container(job).Resources.Limits["memory"].ToString(), Is.EqualTo("2Gi"));
        Assert.That(Container(job).Image, Is.EqualTo("example.com/my-trainer:1"));
        Assert.That(Container(job).Command, Is.EqualTo(new[] { "python", "train.py" }));
        Assert.That(Container(job).Args, Is.Null);
    }

    [Test]
    public void Environment_IsTheTrainingContract_ReadBackByTheTrainer()
    {
        var run = Run();
        var env = Container(TrainingJobBuilder.Build(run, 2, Options)).Env;
        var values = env.Where(e => e.Value is not null).ToDictionary(e => e.Name, e => (string?)e.Value);
        // What the kubelet resolves from the Secret:
        values[S3Settings.AccessKeyIdVariable] = "AK";
        values[S3Settings.SecretAccessKeyVariable] = "SK";

        var settings = TrainingSettings.FromEnvironment(values);

        Assert.That(settings.DatasetUri.ToString(), Is.EqualTo("s3://data/sales/2026-11.csv"));
        Assert.That(settings.OutputUri.ToString(), Is.EqualTo("s3://data/cd4ml/models/sales-model/sales/2/"));
        Assert.That(settings.Algorithm, Is.EqualTo(TrainingAlgorithm.LightGbm));
        Assert.That(settings.Hyperparameters["numberOfTrees"], Is.EqualTo("50"));
        Assert.That(settings.Split, Is.EqualTo(new SplitSettings(Cd4ml.Training.SplitMethod.Time, 0.25, 42, "date")));
        Assert.That(settings.Schema.Select(c => c.Name), Is.EqualTo(new[] { "date", "unit_sales" }));
        Assert.That(settings.SliceColumns, Is.EqualTo(new[] { "date" }));
        Assert.That(settings.RunName, Is.EqualTo("sales"));
        Assert.That(settings.Attempt, Is.EqualTo(2));
        Assert.That(settings.Image, Is.EqualTo("ghcr.io/cd4ml/cd4ml:test"));
        Assert.That(settings.S3.ServiceUrl, Is.EqualTo("http://minio:9000"));
        Assert.That(settings.S3.Region, Is.EqualTo("eu-west-1"));
        Assert.That(settings.S3.ForcePathStyle, Is.True);
        Assert.That(values, Does.Not.ContainKey(TrainingSettings.TerminationLogVariable), "the kubelet's terminationMessagePath decides");
    }

    [Test]
    public void Credentials_ComeFromTheSecret_ByReferenceOnly()
    {
        var env = Container(TrainingJobBuilder.Build(Run(), 1, Options)).Env;

        foreach (var key in new[] { S3Settings.AccessKeyIdVariable, S3Settings.SecretAccessKeyVariable })
        {
            var variable = env.Single(e => e.Name == key);
            Assert.That(variable.Value, Is.Null);
            Assert.That(variable.ValueFrom.SecretKeyRef.Name, Is.EqualTo("s3"));
            Assert.That(variable.ValueFrom.SecretKeyRef.Key, Is.EqualTo(key));
        }
    }

    [Test]
    public void WithoutSecretRef_NoCredentialVariables_AmbientCredentialsApply()
    {
        var env = Container(TrainingJobBuilder.Build(Run(s => s.Storage!.SecretRef = null), 1, Options)).Env;

        Assert.That(env.Select(e => e.Name), Does.Not.Contain(S3Settings.AccessKeyIdVariable).And.Not.Contain(S3Settings.SecretAccessKeyVariable));
    }

    [Test]
    public void OutputUri_UsesSpecOutputWhenSet()
    {
        var run = Run(s => s.Output = new OutputSpec { Uri = "s3://models/sales/" });

        Assert.That(TrainingJobBuilder.OutputUri(run, 3).ToString(), Is.EqualTo("s3://models/sales/sales/3/"));
    }

    [Test]
    public void JobName_IsDeterministic_AndAtMost63Characters()
    {
        var longName = new string('a', 60) + "-run-with-a-long-name";

        var name = TrainingJobBuilder.JobName(longName, 12);

        Assert.That(name.Length, Is.LessThanOrEqualTo(63));
        Assert.That(name, Does.EndWith("-12"));
        Assert.That(TrainingJobBuilder.JobName(longName, 12), Is.EqualTo(name));
        Assert.That(TrainingJobBuilder.JobName(longName + "x", 12), Is.Not.EqualTo(name));
        Assert.That(TrainingJobBuilder.LabelValue(longName).Length, Is.LessThanOrEqualTo(63));
    }
}

public sealed class TrainerResultsTests
{
    private static TrainingRun Run(Api.V1Alpha1.MissingLabelPolicy? missingLabels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = "ml", Uid = "uid-1" },
        Spec = new TrainingRunSpec
        {
            ModelName = "sales-model",
            Dataset = new DatasetSpec { Uri = "s3://data/sales.csv", LabelColumn = "y", MissingLabels = missingLabels },
            Trainer = new TrainerSpec { Hyperparameters = new() { ["numberOfTrees"] = "50" } },
        },
    };

    private static ModelManifest Manifest() => new()
    {
        TrainerVersion = "1.2.3",
        CreatedAt = DateTimeOffset.UnixEpoch,
        Task = Cd4ml.Training.MlTask.Regression,
        Algorithm = TrainingAlgorithm.LightGbm,
        Hyperparameters = AlgorithmCatalog.Resolve(TrainingAlgorithm.LightGbm, new Dictionary<string, string> { ["numberOfTrees"] = "50" }, 20_000),
        Dataset = new DatasetInfo("s3://data/sales.csv", "sha256:" + new string('a', 64), 100, 4, 77, 19)
        {
            DroppedRowsByReason = new Dictionary<string, int> { ["filters"] = 1, ["missingLabels"] = 3 },
        },
        LabelColumn = new ColumnDefinition("y", Cd4ml.Training.ColumnType.Number),
        FeatureColumns = [new ColumnDefinition("x", Cd4ml.Training.ColumnType.Integer, Nullable: true)],
        Schema = [new ColumnDefinition("x", Cd4ml.Training.ColumnType.Integer, Nullable: true), new ColumnDefinition("y", Cd4ml.Training.ColumnType.Number)],
        SchemaInferred = true,
        Split = new SplitSettings(),
        Artifacts = new Dictionary<string, ArtifactEntry>(),
    };

    [TestCase(null, Api.V1Alpha1.MissingLabelPolicy.Fail)]
    [TestCase(Api.V1Alpha1.MissingLabelPolicy.Drop, Api.V1Alpha1.MissingLabelPolicy.Drop)]
    public void MissingLabels_ReachesTheTrainer_DefaultingToFail(Api.V1Alpha1.MissingLabelPolicy? spec, Api.V1Alpha1.MissingLabelPolicy expected)
    {
        var settings = TrainingJobBuilder.Settings(Run(spec), 1, "cd4ml:test");

        Assert.That((int)settings.MissingLabels, Is.EqualTo((int)expected));
        Assert.That(settings.ToEnvironment().GetValueOrDefault(TrainingSettings.MissingLabelsVariable),
            Is.EqualTo(expected == Api.V1Alpha1.MissingLabelPolicy.Drop ? "Drop" : null));
    }

    [Test]
    public void Status_ShowsTheSchemaTheTrainerUsed_AndTheRowsItDroppedByReason()
    {
        var status = new TrainingRunStatus();

        TrainingRunReconciler.RecordDataset(status, Manifest());

        Assert.That(status.Schema!.Select(c => (c.Name, c.Type, c.Nullable)),
            Is.EqualTo(new[] { ("x", Api.V1Alpha1.ColumnType.Integer, (bool?)true), ("y", Api.V1Alpha1.ColumnType.Number, (bool?)false) }));
        Assert.That(status.SchemaInferred, Is.True);
        Assert.That(status.DroppedRows, Is.EquivalentTo(new Dictionary<string, int> { ["filters"] = 1, ["missingLabels"] = 3 }));
    }

    [Test]
    public void Lineage_RecordsEveryHyperparameterFromTheManifest_DefaultsIncluded()
    {
        var manifest = Manifest();

        var version = ModelRegistrar.Build(Run(), 1, 4,
            new Registration("s3://data/m/model.zip", new string('b', 64), new Dictionary<string, double>(), null, "cd4ml:test", manifest));
        var withoutManifest = ModelRegistrar.Build(Run(), 1, 4,
            new Registration("s3://data/m/model.zip", new string('b', 64), new Dictionary<string, double>(), null, "cd4ml:test", null));

        Assert.That(version.Spec.Lineage!.Parameters, Is.EquivalentTo(manifest.Hyperparameters));
        Assert.That(version.Spec.Lineage.Parameters!["learningRate"], Is.EqualTo("0.1"), "a default the spec never named");
        Assert.That((version.Spec.Lineage.Algorithm, version.Spec.Lineage.TrainerVersion), Is.EqualTo(("LightGbm", "1.2.3")));
        Assert.That(withoutManifest.Spec.Lineage!.Parameters, Is.EquivalentTo(new Dictionary<string, string> { ["numberOfTrees"] = "50" }),
            "without a manifest (e.g. a custom trainer image) the spec's values are all that is known");
    }
}
