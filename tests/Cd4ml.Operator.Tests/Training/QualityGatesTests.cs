using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Training;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

public sealed class QualityGatesTests
{
    private static readonly Dictionary<string, double> Metrics = new() { ["rmse"] = 0.5, ["r2"] = 0.8, ["worstSlice.rmse"] = 0.9 };

    [TestCase(Comparison.LessThan, 0.6, true)]
    [TestCase(Comparison.LessThan, 0.5, false)]
    [TestCase(Comparison.LessThanOrEqual, 0.5, true)]
    [TestCase(Comparison.GreaterThan, 0.5, false)]
    [TestCase(Comparison.GreaterThanOrEqual, 0.5, true)]
    public void Gate_ComparesTheMetricWithTheThreshold(Comparison comparison, double threshold, bool passes)
    {
        var result = QualityGates.Evaluate(new QualityGate { Metric = "rmse", Comparison = comparison, Value = threshold }, Metrics);

        Assert.That(result.Passed, Is.EqualTo(passes));
        Assert.That(result.Value, Is.EqualTo(0.5));
        Assert.That(result.Threshold, Is.EqualTo(threshold));
    }

    [Test]
    public void FailedGate_MessageNamesMetricValueAndThreshold()
    {
        var result = QualityGates.Evaluate(new QualityGate { Metric = "worstSlice.rmse", Comparison = Comparison.LessThan, Value = 0.75 }, Metrics);

        Assert.That(result.Passed, Is.False);
        Assert.That(result.Message, Is.EqualTo("worstSlice.rmse = 0.9 fails < 0.75"));
    }

    [Test]
    public void Gate_OnAMetricNotReported_Fails()
    {
        var result = QualityGates.Evaluate(new QualityGate { Metric = "mae", Comparison = Comparison.LessThan, Value = 1 }, Metrics);

        Assert.That(result.Passed, Is.False);
        Assert.That(result.Value, Is.Null);
        Assert.That(result.Message, Does.Contain("mae was not reported"));
    }

    [Test]
    public void Summary_CountsPassedGates()
    {
        var results = QualityGates.Evaluate(
        [
            new QualityGate { Metric = "rmse", Comparison = Comparison.LessThan, Value = 1 },
            new QualityGate { Metric = "r2", Comparison = Comparison.GreaterThan, Value = 0.9 },
        ], Metrics);

        Assert.That(QualityGates.Summary(results), Is.EqualTo("1/2 passed"));
        Assert.That(QualityGates.Summary([]), Is.EqualTo("none"));
    }

    [TestCase(0.52, 0.05, true, TestName = "Ratchet_LowerIsBetter_WithinTolerance_Passes")]
    [TestCase(0.53, 0.05, false, TestName = "Ratchet_LowerIsBetter_BeyondTolerance_Fails")]
    [TestCase(0.50, 0.0, true, TestName = "Ratchet_LowerIsBetter_Equal_Passes")]
    [TestCase(0.51, 0.0, false, TestName = "Ratchet_LowerIsBetter_AnyRegressionWithoutTolerance_Fails")]
    public void Ratchet_Rmse(double value, double tolerance, bool passes)
    {
        var gate = new BaselineGate { Deployment = "sales-api", Metric = "rmse", Tolerance = tolerance };

        var result = QualityGates.EvaluateBaseline(gate, new Dictionary<string, double> { ["rmse"] = value }, 0.5, "sales-3");

        Assert.That(result.Passed, Is.EqualTo(passes), result.Message);
        Assert.That(result.Comparison, Is.EqualTo("LessThanOrEqual"));
        Assert.That(result.Message, Does.Contain("sales-3"));
    }

    [Test]
    public void Ratchet_HigherIsBetter_IsInferredForAccuracy()
    {
        var gate = new BaselineGate { Deployment = "d", Metric = "accuracy", Tolerance = 0.1 };

        Assert.That(QualityGates.EvaluateBaseline(gate, new Dictionary<string, double> { ["accuracy"] = 0.81 }, 0.9, "v").Passed, Is.True);
        Assert.That(QualityGates.EvaluateBaseline(gate, new Dictionary<string, double> { ["accuracy"] = 0.80 }, 0.9, "v").Passed, Is.False);
    }

    [Test]
    public void Ratchet_ExplicitDirection_WinsOverInference()
    {
        var gate = new BaselineGate { Deployment = "d", Metric = "rmse", HigherIsBetter = true };

        Assert.That(QualityGates.EvaluateBaseline(gate, new Dictionary<string, double> { ["rmse"] = 0.4 }, 0.5, "v").Passed, Is.False);
    }

    [Test]
    public void Ratchet_WithoutBaseline_PassesAndSaysWhy()
    {
        var gate = new BaselineGate { Deployment = "d", Metric = "rmse" };

        var result = QualityGates.EvaluateBaseline(gate, Metrics, null, "Deployment d serves no stable version yet");

        Assert.That(result.Passed, Is.True);
        Assert.That(result.Message, Does.Contain("no stable version"));
    }

    [TestCase(MlTask.Regression, "rmse", true)]
    [TestCase(MlTask.Regression, "worstSlice.nwrmsle", true)]
    [TestCase(MlTask.Regression, "slice.store_nbr.3.rmse", true)]
    [TestCase(MlTask.Regression, "trainRows", true)]
    [TestCase(MlTask.Regression, "accuracy", false)]
    [TestCase(MlTask.BinaryClassification, "auc", true)]
    [TestCase(MlTask.MulticlassClassification, "auc", false)]
    [TestCase(MlTask.Regression, "holdout.rsme", false)]
    public void KnownMetrics_DependOnTheTask(MlTask task, string metric, bool known) =>
        Assert.That(QualityGates.IsKnownMetric(task, metric), Is.EqualTo(known));

    [Test]
    public void Headline_IsRmseForRegression_AucForBinary_AccuracyForMulticlass()
    {
        Assert.That(QualityGates.Headline(MlTask.Regression, Metrics), Is.EqualTo("rmse=0.5"));
        Assert.That(QualityGates.Headline(MlTask.BinaryClassification, new Dictionary<string, double> { ["auc"] = 0.91234, ["accuracy"] = 0.8 }),
            Is.EqualTo("auc=0.9123"));
        Assert.That(QualityGates.Headline(MlTask.BinaryClassification, new Dictionary<string, double> { ["accuracy"] = 0.8 }), Is.EqualTo("accuracy=0.8"));
        Assert.That(QualityGates.Headline(MlTask.MulticlassClassification, new Dictionary<string, double> { ["accuracy"] = 0.7 }), Is.EqualTo("accuracy=0.7"));
    }
}
