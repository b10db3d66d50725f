using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Training;
using k8s.Models;
using NUnit.Framework;
using TrainerTermination = Cd4ml.Training.TrainerTermination;

namespace Cd4ml.Operator.Tests.Training;

public sealed class TrainingSpecValidatorTests
{
    private static TrainingRun Run(Action<TrainingRunSpec> configure)
    {
        var run = new TrainingRun
        {
            Metadata = new V1ObjectMeta { Name = "r" },
            Spec = new TrainingRunSpec
            {
                ModelName = "m",
                Dataset = new DatasetSpec
                {
                    Uri = "s3://data/x.csv",
                    LabelColumn = "y",
                    Columns = [new ColumnSpec { Name = "x", Type = Api.V1Alpha1.ColumnType.Number }, new ColumnSpec { Name = "y", Type = Api.V1Alpha1.ColumnType.Number }],
                },
                Trainer = new TrainerSpec(),
            },
        };
        configure(run.Spec);
        return run;
    }

    [Test]
    public void ValidSpec_HasNoProblem() => Assert.That(TrainingSpecValidator.Validate(Run(_ => { })), Is.Null);

    [Test]
    public void AlgorithmNotAvailableForTask_NamesTheAlgorithmField()
    {
        var problem = TrainingSpecValidator.Validate(Run(s => s.Trainer!.Algorithm = Algorithm.LogisticRegression));

        Assert.That(problem?.Field, Is.EqualTo("spec.trainer.algorithm"));
        Assert.That(problem!.Message, Does.Contain("LogisticRegression").And.Contain("Regression"));
    }

    [Test]
    public void UnknownHyperparameter_NamesTheHyperparametersField()
    {
        var problem = TrainingSpecValidator.Validate(Run(s => s.Trainer!.Hyperparameters = new() { ["trees"] = "5" }));

        Assert.That(problem?.Field, Is.EqualTo("spec.trainer.hyperparameters"));
        Assert.That(problem!.Message, Does.Contain("trees"));
    }

    [Test]
    public void GateOnAMetricTheTaskDoesNotReport_NamesTheGate()
    {
        var problem = TrainingSpecValidator.Validate(Run(s => s.Gates =
        [
            new QualityGate { Metric = "rmse", Comparison = Comparison.LessThan, Value = 1 },
            new QualityGate { Metric = "accuracy", Comparison = Comparison.GreaterThan, Value = 0.5 },
        ]));

        Assert.That(problem?.Field, Is.EqualTo("spec.gates[1].metric"));
    }

    [Test]
    public void UndeclaredSliceColumn_NamesTheField()
    {
        var problem = TrainingSpecValidator.Validate(Run(s => s.Dataset.SliceColumns = ["store"]));

        Assert.That(problem?.Field, Is.EqualTo("spec.dataset.sliceColumns"));
        Assert.That(problem!.Message, Does.Contain("store"));
    }

    [Test]
    public void TimeSplitWithoutTimeColumn_NamesTheSplit()
    {
        var problem = TrainingSpecValidator.Validate(Run(s => s.Dataset.Split = new SplitSpec { Method = Api.V1Alpha1.SplitMethod.Time }));

        Assert.That(problem?.Field, Is.EqualTo("spec.dataset.split"));
    }

    [Test]
    public void BaselineOnAMetricOfUnknownDirection_NeedsHigherIsBetter()
    {
        var problem = TrainingSpecValidator.Validate(Run(s => s.Baseline = new BaselineGate { Deployment = "d", Metric = "trainRows" }));

        Assert.That(problem?.Field, Is.EqualTo("spec.baseline.higherIsBetter"));
    }

    [TestCase("10m", 600)]
    [TestCase("1h30m", 5400)]
    [TestCase("2s", 2)]
    [TestCase("500ms", 0.5)]
    public void Durations_Parse(string text, double seconds) =>
        Assert.That(TrainingSpecValidator.ParseDuration(text)?.TotalSeconds, Is.EqualTo(seconds));

    [Test]
    public void DatasetCheckInterval_DefaultsTo10Minutes() =>
        Assert.That(TrainingSpecValidator.DatasetCheckInterval(new TrainingRunSpec()), Is.EqualTo(TimeSpan.FromMinutes(10)));

    [Test]
    public void TerminationMessage_SuccessAndFailureAndLogTail()
    {
        var success = TrainerTermination.Parse("""{"metrics":{"rmse":0.5},"datasetDigest":"sha256:ab","modelSha256":"cd","outputUri":"s3://b/p/"}""")!;
        Assert.That(success.IsSuccess, Is.True);
        Assert.That(success.Metrics!["rmse"], Is.EqualTo(0.5));
        Assert.That((success.DatasetDigest, success.ModelSha256, success.OutputUri), Is.EqualTo(("sha256:ab", "cd", "s3://b/p/")));

        var failure = TrainerTermination.Parse("""{"error":{"reason":"SchemaViolation","message":"column x"}}""")!;
        Assert.That((failure.IsSuccess, failure.ErrorReason, failure.ErrorMessage), Is.EqualTo((false, "SchemaViolation", "column x")));

        var tail = TrainerTermination.Parse("Unhandled exception: out of memory\n")!;
        Assert.That((tail.ErrorReason, tail.ErrorMessage), Is.EqualTo(("TrainingFailed", "Unhandled exception: out of memory")));
        Assert.That(TrainerTermination.Parse(""), Is.Null);
    }
}
