using System.Text.Json;
using Cd4ml.Artifacts;
using Cd4ml.Testing;
using Cd4ml.Training.Datasets;

namespace Cd4ml.Training.Tests;

/// <summary>
/// `cd4ml train` as the training Job's pod runs it: uid 65532, read-only root filesystem, only the /tmp emptyDir
/// (TMPDIR) writable. The pod spec itself is checked in Cd4ml.Operator.Tests (PodSecurityTests).
/// </summary>
public sealed class ReadOnlyRootTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private S3Server server = null!;
    private S3Location bucket = null!;
    private ReadOnlyRootSandbox sandbox = null!;

    [OneTimeSetUp]
    public async Task StartS3()
    {
        if (ReadOnlyRootSandbox.Unavailable is { } missing)
        {
            Assert.Ignore($"The read-only root sandbox {missing}.");
        }

        (server, bucket) = await TrainingHarness.BucketAsync();
    }

    [SetUp]
    public void NewSandbox() => sandbox = ReadOnlyRootSandbox.Create();

    [TearDown]
    public void RemoveSandbox() => sandbox?.Dispose();

    [Test]
    public async Task Sandbox_RunsAsUid65532_WithAReadOnlyRoot_AndOnlyTmpdirWritable()
    {
        var (exitCode, output) = await sandbox.RunAsync(
            ["sh", "-c", "id -u; id -g; touch /tmp/probe || echo root-read-only; touch \"$TMPDIR/probe\" && echo tmpdir-writable"],
            new Dictionary<string, string>(), Timeout);

        Assert.That(exitCode, Is.Zero, output);
        Assert.That(output, Does.StartWith("65532\n65532\n").And.Contain("Read-only file system").And.Contain("root-read-only")
            .And.Contain("tmpdir-writable"));
    }

    [Test]
    public async Task TrainCommand_OnAReadOnlyRoot_TrainsWithOnlyTmpdirWritable_AndUploadsTheModel()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, new RetailDatasetOptions { Rows = 1500 });

        var (exitCode, output) = await sandbox.RunAsync(ReadOnlyRootSandbox.Cli("train"), Environment(settings), Timeout);

        Assert.That(exitCode, Is.Zero, output);
        using var message = JsonDocument.Parse(await File.ReadAllTextAsync(sandbox.TerminationLog));
        Assert.That(message.RootElement.GetProperty("metrics").GetProperty("rmse").GetDouble(), Is.GreaterThan(0));
        var model = await server.Store.GetBytesAsync(settings.OutputUri.Combine(ModelManifest.ModelFileName));
        Assert.That(ContentDigest.Sha256Hex(model), Is.EqualTo(message.RootElement.GetProperty("modelSha256").GetString()));
    }

    /// <summary>Why the pods carry an emptyDir at /tmp: ML.NET needs a writable temporary directory, and finds it by TMPDIR.</summary>
    [Test]
    public async Task TrainCommand_WhenTmpdirIsOnTheReadOnlyRoot_FailsWithReadOnlyFileSystem()
    {
        var settings = await TrainingHarness.UploadRetailAsync(server, bucket, new RetailDatasetOptions { Rows = 500 });
        var environment = new Dictionary<string, string>(Environment(settings)) { ["TMPDIR"] = "/tmp" };

        var (exitCode, output) = await sandbox.RunAsync(ReadOnlyRootSandbox.Cli("train"), environment, Timeout);

        Assert.That(exitCode, Is.Not.Zero);
        Assert.That(output + await File.ReadAllTextAsync(sandbox.TerminationLog),
            Does.Match("Read-only file system : '/tmp/ml_dotnet"));
    }

    private Dictionary<string, string> Environment(TrainingSettings settings) =>
        new((settings with { TerminationLogPath = sandbox.TerminationLog }).ToEnvironment());
}
