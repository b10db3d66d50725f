namespace Cd4ml.Training.Tests;

/// <summary>The termination message is one contract type: what the trainer writes is what the operator reads.</summary>
public sealed class TrainerTerminationTests
{
    [Test]
    public void Success_RoundTripsThroughTheMessage()
    {
        var written = TrainerTermination.Success(new Dictionary<string, double> { ["rmse"] = 0.5, ["trainRows"] = 800 },
            "sha256:ab", "cd", "s3://b/runs/r/1/");

        var read = TrainerTermination.Parse(written.ToMessage())!;

        Assert.That(read.IsSuccess, Is.True);
        Assert.That(read.Metrics, Is.EquivalentTo(written.Metrics!));
        Assert.That((read.DatasetDigest, read.ModelSha256, read.OutputUri), Is.EqualTo(("sha256:ab", "cd", "s3://b/runs/r/1/")));
        Assert.That(read.Error, Is.Null);
    }

    [Test]
    public void Failure_RoundTripsTheReasonByName_AndShortensALongMessage()
    {
        var read = TrainerTermination.Parse(TrainerTermination.Failure(TrainingFailureReason.SchemaViolation, new string('x', 5000)).ToMessage())!;

        Assert.That(read.IsSuccess, Is.False);
        Assert.That(read.ErrorReason, Is.EqualTo(nameof(TrainingFailureReason.SchemaViolation)));
        Assert.That(read.ErrorMessage, Has.Length.EqualTo(3001).And.EndWith("…"));
    }

    [Test]
    public void JsonThatIsNeitherSuccessNorError_IsReadAsALogTail()
    {
        var read = TrainerTermination.Parse("""{"status":"done"}""")!;

        Assert.That((read.IsSuccess, read.ErrorReason, read.ErrorMessage), Is.EqualTo((false, "TrainingFailed", """{"status":"done"}""")));
    }
}
