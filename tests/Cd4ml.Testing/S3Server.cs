using Amazon.S3;
using Amazon.S3.Model;
using Cd4ml.Artifacts;
using Cd4ml.LocalCluster;
using k8s;
using k8s.Models;
using S3Location = Cd4ml.Artifacts.S3Location;

namespace Cd4ml.Testing;

/// <summary>
/// A real S3 (npm s3rver) on a free 127.0.0.1 port with its own temporary data directory. The process is killed on
/// dispose; its data and log are deleted unless <see cref="KeepLogs"/> is set (or CD4ML_KEEP_LOGS=1).
/// s3rver is found via CD4ML_S3RVER, then $CD4ML_CACHE/node/node_modules/.bin/s3rver (CD4ML_CACHE defaults to
/// ~/.cache/cd4ml), then PATH; install it with <c>npm install --prefix ~/.cache/cd4ml/node s3rver@3.7.1</c>.
/// </summary>
public sealed class S3Server : LoopbackServer
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private static readonly Lazy<Task<S3Server>> Shared = new(() => StartAsync());

    private S3Server(LocalProcess process, string workDirectory, int port)
        : base(process, workDirectory, port)
    {
        Settings = new S3Settings
        {
            ServiceUrl = $"http://127.0.0.1:{port}",
            ForcePathStyle = true,
            AccessKeyId = AccessKey,
            SecretAccessKey = SecretKey,
        };
        Client = Settings.CreateClient();
        Store = new ArtifactStore(Client);
    }

    public override string LogPath => Path.Combine(WorkDirectory, "s3rver.log");

    public S3Settings Settings { get; }

    public IAmazonS3 Client { get; }

    public ArtifactStore Store { get; }

    /// <summary>One server per test process, started on first use.</summary>
    public static Task<S3Server> SharedAsync() => Shared.Value;

    /// <summary>Stops the shared server if it was started (call from a [SetUpFixture]'s one-time teardown).</summary>
    public static Task StopSharedAsync(bool keepLogs) => StopSharedAsync(Shared, keepLogs);

    public static Task<S3Server> StartAsync(CancellationToken cancellationToken = default)
    {
        var executable = LocateExecutable();
        return StartAsync("s3rver", (workDirectory, port) =>
        {
            var dataDirectory = Directory.CreateDirectory(Path.Combine(workDirectory, "data")).FullName;
            var process = LocalProcess.Start(executable,
                ["-d", dataDirectory, "-a", "127.0.0.1", "-p", port.ToString(), "--no-vhost-buckets"],
                Path.Combine(workDirectory, "s3rver.log"));
            return Task.FromResult(new S3Server(process, workDirectory, port));
        }, cancellationToken);
    }

    /// <summary>Creates a bucket (no error when it already exists) and returns its root location.</summary>
    public async Task<S3Location> CreateBucketAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            await Client.PutBucketAsync(new PutBucketRequest { BucketName = name }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }

        return new S3Location(name, "");
    }

    /// <summary>A fresh bucket with a unique name, for tests that must not see each other's objects.</summary>
    public Task<S3Location> CreateUniqueBucketAsync(string prefix = "test", CancellationToken cancellationToken = default) =>
        CreateBucketAsync($"{prefix}-{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)], cancellationToken);

    /// <summary>
    /// Creates the Secret named <paramref name="name"/> in <paramref name="ns"/> with this server's credentials, under
    /// the keys a TrainingRun's or Deployment's storage secretRef is read by.
    /// </summary>
    public static Task CreateCredentialsSecretAsync(IKubernetes client, string ns, string name) =>
        client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = name },
            StringData = new Dictionary<string, string>
            {
                [S3Settings.AccessKeyIdVariable] = AccessKey,
                [S3Settings.SecretAccessKeyVariable] = SecretKey,
            },
        }, ns);

    /// <summary>The variables a trainer or model server process needs to reach this server.</summary>
    public IReadOnlyDictionary<string, string> Environment() => Settings.ToEnvironment();

    protected override string Name => "s3rver";

    protected override Uri ReadinessUri => new(Settings.ServiceUrl!);

    /// <summary>Any HTTP answer (even 403 for the unsigned request) means it is serving.</summary>
    protected override bool IsReady(HttpResponseMessage response) => true;

    protected override void DisposeClients() => Client.Dispose();

    private static string LocateExecutable()
    {
        var configured = System.Environment.GetEnvironmentVariable("CD4ML_S3RVER");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured)
                ? configured
                : throw new FileNotFoundException($"CD4ML_S3RVER names '{configured}', which does not exist.");
        }

        var cache = System.Environment.GetEnvironmentVariable("CD4ML_CACHE") is { Length: > 0 } value
            ? value
            : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".cache", "cd4ml");
        var cached = Path.Combine(cache, "node", "node_modules", ".bin", "s3rver");
        if (File.Exists(cached))
        {
            return cached;
        }

        foreach (var directory in (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(directory, "s3rver");
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            "s3rver not found (CD4ML_S3RVER, $CD4ML_CACHE/node/node_modules/.bin, PATH). " +
            "Install it: npm install --prefix ~/.cache/cd4ml/node s3rver@3.7.1");
    }
}
