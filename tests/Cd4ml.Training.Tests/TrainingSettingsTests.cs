using Cd4ml.Artifacts;

namespace Cd4ml.Training.Tests;

public sealed class TrainingSettingsTests
{
    private static Dictionary<string, string?> Minimal() => new()
    {
        [TrainingSettings.DatasetUriVariable] = "s3://data/retail.csv",
        [TrainingSettings.OutputUriVariable] = "s3://models/runs/1/",
        [TrainingSettings.LabelColumnVariable] = "unit_sales",
    };

    [Test]
    public void FromEnvironment_ReadsEveryVariable_AndToEnvironmentIsItsInverse()
    {
        var environment = new Dictionary<string, string?>(Minimal())
        {
            [TrainingSettings.DatasetDigestVariable] = "sha256:" + new string('A', 64),
            [TrainingSettings.TaskVariable] = "BinaryClassification",
            [TrainingSettings.AlgorithmVariable] = "logisticregression",
            [TrainingSettings.FeatureColumnsVariable] = "a, b",
            [TrainingSettings.SchemaVariable] = """[{"name":"a","type":"Number","nullable":true,"min":0,"max":5},{"name":"b","type":"Date"}]""",
            [TrainingSettings.FiltersVariable] = """[{"column":"a","min":0}]""",
            [TrainingSettings.HyperparametersVariable] = """{"l2Regularization":"0.5"}""",
            [TrainingSettings.SplitVariable] = """{"method":"Time","validationFraction":0.3,"seed":3,"timeColumn":"b"}""",
            [TrainingSettings.SliceColumnsVariable] = "a",
            [TrainingSettings.MissingLabelsVariable] = "drop",
            [TrainingSettings.WeightColumnVariable] = "a",
            [TrainingSettings.RunNameVariable] = "run-1",
            [TrainingSettings.AttemptVariable] = "2",
            [TrainingSettings.ImageVariable] = "cd4ml:1",
            [TrainingSettings.TerminationLogVariable] = "/tmp/t",
            [S3Settings.EndpointVariable] = "http://127.0.0.1:9000",
        };

        var settings = TrainingSettings.FromEnvironment(environment);
        var again = TrainingSettings.FromEnvironment(settings.ToEnvironment().ToDictionary(e => e.Key, e => (string?)e.Value));

        Assert.That(settings.DatasetDigest, Is.EqualTo("sha256:" + new string('a', 64)));
        Assert.That((settings.Task, settings.Algorithm), Is.EqualTo((MlTask.BinaryClassification, TrainingAlgorithm.LogisticRegression)));
        Assert.That(settings.FeatureColumns, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(settings.Schema[0], Is.EqualTo(new ColumnDefinition("a", ColumnType.Number, true, 0, 5)));
        Assert.That(settings.Split, Is.EqualTo(new SplitSettings(SplitMethod.Time, 0.3, 3, "b")));
        Assert.That((settings.Attempt, settings.RunName, settings.Image), Is.EqualTo((2, "run-1", "cd4ml:1")));
        Assert.That(settings.MissingLabels, Is.EqualTo(MissingLabelPolicy.Drop));
        Assert.That(settings.S3.ForcePathStyle, Is.True, "a custom endpoint defaults to path-style addressing");
        Assert.That(again.ToEnvironment(), Is.EquivalentTo(settings.ToEnvironment()));
        Assert.That(again.Schema, Is.EqualTo(settings.Schema));
        Assert.That(again.Filters, Is.EqualTo(settings.Filters));
        Assert.That(again.Hyperparameters, Is.EquivalentTo(settings.Hyperparameters));
        Assert.That(again.MissingLabels, Is.EqualTo(MissingLabelPolicy.Drop));
    }

    [Test]
    public void MissingLabels_DefaultsToFail_AndIsLeftOutOfTheEnvironmentThen()
    {
        var settings = TrainingSettings.FromEnvironment(Minimal());

        Assert.That(settings.MissingLabels, Is.EqualTo(MissingLabelPolicy.Fail));
        Assert.That(settings.ToEnvironment().Keys, Does.Not.Contain(TrainingSettings.MissingLabelsVariable));
    }

    [Test]
    public void FromEnvironment_AcceptsHyperparametersGivenAsJsonNumbers()
    {
        var environment = new Dictionary<string, string?>(Minimal()) { [TrainingSettings.HyperparametersVariable] = """{"numberOfTrees":50,"learningRate":0.05}""" };

        var settings = TrainingSettings.FromEnvironment(environment);

        Assert.That(settings.Hyperparameters, Is.EquivalentTo(new Dictionary<string, string> { ["numberOfTrees"] = "50", ["learningRate"] = "0.05" }));
    }

    [Test]
    public void FromEnvironment_FailsWithUnknownAlgorithm_ListingTheAllowedOnes()
    {
        var environment = new Dictionary<string, string?>(Minimal())
        {
            [TrainingSettings.TaskVariable] = "MulticlassClassification", [TrainingSettings.AlgorithmVariable] = "FastTree",
        };

        var error = Assert.Throws<TrainingException>(() => TrainingSettings.FromEnvironment(environment));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.UnknownAlgorithm));
        Assert.That(error.Message, Does.Contain("'FastTree'").And.Contain("allowed: LightGbm, Sdca"));
    }

    [TestCase("""{"numberOfTress":"10"}""", "'numberOfTress'", "allowed: numberOfTrees, numberOfLeaves, learningRate, minimumExampleCountPerLeaf")]
    [TestCase("""{"numberOfTrees":"ten"}""", "'numberOfTrees'", "positive integer")]
    [TestCase("""{"learningRate":"-0.1"}""", "'learningRate'", "positive number")]
    [TestCase("""{"numberOfLeaves":[4]}""", "'numberOfLeaves'", "string or number")]
    [TestCase("""{"earlyStoppingRounds":"-1"}""", "'earlyStoppingRounds'", "a non-negative integer (0 = off)")]
    public void FromEnvironment_FailsWithInvalidHyperparameter_NamingTheKey(string json, string key, string hint)
    {
        var environment = new Dictionary<string, string?>(Minimal()) { [TrainingSettings.HyperparametersVariable] = json };

        var error = Assert.Throws<TrainingException>(() => TrainingSettings.FromEnvironment(environment));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.InvalidHyperparameter));
        Assert.That(error.Message, Does.Contain(key).And.Contain(hint));
    }

    [TestCase(TrainingSettings.OutputUriVariable, "s3://models/runs/1", "must be a prefix ending in '/'")]
    [TestCase(TrainingSettings.DatasetUriVariable, "http://x/y.csv", "CD4ML_DATASET_URI")]
    [TestCase(TrainingSettings.SchemaVariable, """[{"name":"a","type":"Numbr"}]""", "CD4ML_SCHEMA")]
    [TestCase(TrainingSettings.SchemaVariable, """[{"name":"a","type":"Number","nulable":true}]""", "nulable")]
    [TestCase(TrainingSettings.SchemaVariable, """[{"name":"a","type":"String","min":1}]""", "min/max apply to Number and Integer only")]
    [TestCase(TrainingSettings.SplitVariable, """{"method":"Time"}""", "timeColumn")]
    [TestCase(TrainingSettings.SplitVariable, """{"validationFraction":1.5}""", "validationFraction")]
    [TestCase(TrainingSettings.TaskVariable, "Clustering", "CD4ML_TASK 'Clustering'")]
    [TestCase(TrainingSettings.DatasetDigestVariable, "md5:abc", "sha256:<64 hex digits>")]
    [TestCase(TrainingSettings.MissingLabelsVariable, "Skip", "CD4ML_MISSING_LABELS 'Skip' is not one of Fail, Drop")]
    public void FromEnvironment_FailsWithInvalidSettings_NamingTheProblem(string variable, string value, string expected)
    {
        var environment = new Dictionary<string, string?>(Minimal()) { [variable] = value };

        var error = Assert.Throws<TrainingException>(() => TrainingSettings.FromEnvironment(environment));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.InvalidSettings));
        Assert.That(error.Message, Does.Contain(expected));
        Assert.That(error.ExitCode, Is.EqualTo(2));
    }

    [Test]
    public void FromEnvironment_FailsWithInvalidSettings_WhenARequiredVariableIsMissing()
    {
        var environment = Minimal();
        environment.Remove(TrainingSettings.LabelColumnVariable);

        var error = Assert.Throws<TrainingException>(() => TrainingSettings.FromEnvironment(environment));

        Assert.That(error!.Message, Is.EqualTo("CD4ML_LABEL_COLUMN is required."));
    }
}
