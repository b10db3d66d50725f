using System.Text;
using System.Text.Json;
using Cd4ml.Artifacts;
using Cd4ml.Testing;
using Cd4ml.Training.Datasets;

namespace Cd4ml.Training.Tests;

public sealed class TerminationAndCommandTests
{
    private S3Server server = null!;
    private S3Location bucket = null!;
    private string terminationLog = null!;

    [OneTimeSetUp]
    public async Task StartS3() => (server, bucket) = await TrainingHarness.BucketAsync();

    [SetUp]
    public void NewTerminationLog() => terminationLog = Path.Combine(Path.GetTempPath(), $"cd4ml-termination-{Guid.NewGuid():N}");

    [TearDown]
    public void RemoveTerminationLog() => File.Delete(terminationLog);

    [Test]
    public async Task TerminationMessage_StaysUnder4KB_ByDroppingSliceMetricsFirst()
    {
        var settings = (await TrainingHarness.UploadRetailAsync(server, bucket, new RetailDatasetOptions { Rows = 3000 })) with
        {
            SliceColumns = ["item_nbr", "store_nbr"],
        };
        var result = await TrainingHarness.TrainAsync(server, settings);

        var message = TerminationMessage.ForSuccess(result);

        Assert.That(JsonSerializer.Serialize(result.Metrics).Length, Is.GreaterThan(4096), "the full flat map would not fit");
        Assert.That(Encoding.UTF8.GetByteCount(message), Is.LessThan(4096));
        using var json = JsonDocument.Parse(message);
        var metrics = json.RootElement.GetProperty("metrics");
        Assert.That(metrics.GetProperty("rmse").GetDouble(), Is.EqualTo(result.Metrics["rmse"]));
        Assert.That(metrics.TryGetProperty("worstSlice.rmse", out _), Is.True);
        Assert.That(metrics.EnumerateObject().Any(p => p.Name.StartsWith("slice.")), Is.False);
        Assert.That(json.RootElement.GetProperty("datasetDigest").GetString(), Is.EqualTo(result.DatasetDigest));
        Assert.That(json.RootElement.GetProperty("modelSha256").GetString(), Is.EqualTo(result.ModelSha256));
        Assert.That(json.RootElement.GetProperty("outputUri").GetString(), Is.EqualTo(settings.OutputUri.ToString()));
    }

    [Test]
    public async Task TrainCommand_Succeeds_AndWritesTheTerminationMessage()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, new RetailDatasetOptions { Rows = 1500 });
        var environment = Environment(settings);
        var output = new StringWriter();

        var exitCode = await TrainCommand.RunAsync(environment, output, CancellationToken.None);

        Assert.That(exitCode, Is.EqualTo(0), output.ToString());
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(terminationLog));
        Assert.That(json.RootElement.GetProperty("metrics").GetProperty("rmse").GetDouble(), Is.GreaterThan(0));
        Assert.That(json.RootElement.GetProperty("datasetDigest").GetString(), Does.StartWith("sha256:"));
    }

    [Test]
    public async Task TrainCommand_ExitsWith2_AndWritesTheErrorReason_WhenTheDatasetIsMissing()
    {
        var settings = RetailDatasetGenerator.TrainingPreset(bucket.Combine("nope.csv"), bucket.Combine("runs/nope/"), server.Settings);
        var output = new StringWriter();

        var exitCode = await TrainCommand.RunAsync(Environment(settings), output, CancellationToken.None);

        Assert.That(exitCode, Is.EqualTo(2));
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(terminationLog));
        Assert.That(json.RootElement.GetProperty("error").GetProperty("reason").GetString(), Is.EqualTo("DatasetNotFound"));
        Assert.That(json.RootElement.GetProperty("error").GetProperty("message").GetString(), Does.Contain("nope.csv"));
    }

    [Test]
    public async Task TrainCommand_ExitsWith2_ForAnUnknownAlgorithm_BeforeTouchingS3()
    {
        var environment = new Dictionary<string, string?>
        {
            [TrainingSettings.DatasetUriVariable] = "s3://data/x.csv",
            [TrainingSettings.OutputUriVariable] = "s3://data/out/",
            [TrainingSettings.LabelColumnVariable] = "y",
            [TrainingSettings.AlgorithmVariable] = "RandomForest",
            [TrainingSettings.TerminationLogVariable] = terminationLog,
        };

        var exitCode = await TrainCommand.RunAsync(environment, TextWriter.Null, CancellationToken.None);

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(await File.ReadAllTextAsync(terminationLog), Does.Contain("\"reason\":\"UnknownAlgorithm\"").And.Contain("RandomForest"));
    }

    [Test]
    public async Task TrainCommand_ExitsWith1_WhenS3IsUnreachable()
    {
        var settings = RetailDatasetGenerator.TrainingPreset(bucket.Combine("x.csv"), bucket.Combine("runs/x/"),
            server.Settings with { ServiceUrl = "http://127.0.0.1:1" });

        var exitCode = await TrainCommand.RunAsync(Environment(settings), TextWriter.Null, CancellationToken.None);

        Assert.That(exitCode, Is.EqualTo(1));
        Assert.That(await File.ReadAllTextAsync(terminationLog), Does.Contain("\"reason\":\"TrainingFailed\""));
    }

    [Test]
    public async Task DatasetGenerateCommand_WritesTheSameBytesToS3AndToAFile()
    {
        var file = Path.Combine(Path.GetTempPath(), $"cd4ml-retail-{Guid.NewGuid():N}.csv");
        var location = bucket.Combine("generated/retail.csv");
        var environment = server.Environment().ToDictionary(e => e.Key, e => (string?)e.Value);
        try
        {
            Assert.That(await DatasetGenerateCommand.RunAsync(500, 9, file, null, environment, TextWriter.Null, CancellationToken.None), Is.EqualTo(0));
            Assert.That(await DatasetGenerateCommand.RunAsync(500, 9, location.ToString(), null, environment, TextWriter.Null, CancellationToken.None), Is.EqualTo(0));

            Assert.That(await server.Store.GetBytesAsync(location), Is.EqualTo(await File.ReadAllBytesAsync(file)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private Dictionary<string, string?> Environment(TrainingSettings settings) =>
        (settings with { TerminationLogPath = terminationLog }).ToEnvironment().ToDictionary(e => e.Key, e => (string?)e.Value);
}
