using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using Amazon.S3.Model;
using Cd4ml.Artifacts;
using Cd4ml.LocalCluster;
using S3Location = Cd4ml.Artifacts.S3Location;

namespace Cd4ml.Testing;

/// <summary>
/// A real S3 (npm s3rver) on a free 127.0.0.1 port with its own temporary data directory. The process is killed on
/// dispose; its data and log are deleted unless <see cref="KeepLogs"/> is set (or CD4ML_KEEP_LOGS=1).
/// s3rver is found via CD4ML_S3RVER, then $CD4ML_CACHE/node/node_modules/.bin/s3rver (CD4ML_CACHE defaults to
/// ~/.cache/cd4ml), then PATH; install it with <c>npm install --prefix ~/.cache/cd4ml/node s3rver@3.7.1</c>.
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private static readonly Lazy<Task<S3Server>> Shared = new(() => StartAsync());
    private readonly LocalProcess process;
    private bool disposed;

    private S3Server(LocalProcess process, string workDirectory, int port)
    {
        this.process = process;
        WorkDirectory = workDirectory;
        Port = port;
        Settings = new S3Settings
        {
            ServiceUrl = $"http://127.0.0.1:{port}",
            ForcePathStyle = true,
            AccessKeyId = AccessKey,
            SecretAccessKey = SecretKey,
        };
        Client = Settings.CreateClient();
        Store = new ArtifactStore(Client);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => process.Kill();
    }

    public int Port { get; }

    public string WorkDirectory { get; }

    public string LogPath => Path.Combine(WorkDirectory, "s3rver.log");

    public S3Settings Settings { get; }

    public IAmazonS3 Client { get; }

    public ArtifactStore Store { get; }

    public bool KeepLogs { get; set; } = System.Environment.GetEnvironmentVariable("CD4ML_KEEP_LOGS") == "1";

    /// <summary>One server per test process, started on first use.</summary>
    public static Task<S3Server> SharedAsync() => Shared.Value;

    /// <summary>Stops the shared server if it was started (call from a [SetUpFixture]'s one-time teardown).</summary>
    public static async Task StopSharedAsync(bool keepLogs)
    {
        if (!Shared.IsValueCreated || !Shared.Value.IsCompletedSuccessfully)
        {
            return;
        }

        var server = await Shared.Value;
        server.KeepLogs = keepLogs || server.KeepLogs;
        await server.DisposeAsync();
    }

    public static async Task<S3Server> StartAsync(CancellationToken cancellationToken = default)
    {
        var executable = LocateExecutable();
        Exception? lastError = null;
        // A free port can be taken between probing and binding; try a few times.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var workDirectory = Directory.CreateTempSubdirectory("cd4ml-s3rver-").FullName;
            var dataDirectory = Directory.CreateDirectory(Path.Combine(workDirectory, "data")).FullName;
            var port = LoopbackPorts.Free();
            var process = LocalProcess.Start(executable,
                ["-d", dataDirectory, "-a", "127.0.0.1", "-p", port.ToString(), "--no-vhost-buckets"],
                Path.Combine(workDirectory, "s3rver.log"));
            var server = new S3Server(process, workDirectory, port);
            try
            {
                await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(30), cancellationToken);
                return server;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                lastError = e;
                server.KeepLogs = true;
                await server.DisposeAsync();
            }
        }

        throw new InvalidOperationException($"s3rver did not start: {lastError?.Message}", lastError);
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

    /// <summary>The variables a trainer or model server process needs to reach this server.</summary>
    public IReadOnlyDictionary<string, string> Environment() => Settings.ToEnvironment();

    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        Client.Dispose();
        process.Kill();
        await process.Exited.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        if (KeepLogs)
        {
            NUnit.Framework.TestContext.Progress.WriteLine($"s3rver data and log kept in {WorkDirectory}");
        }
        else
        {
            try
            {
                Directory.Delete(WorkDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"s3rver exited with {process.Exited.Result}; see {LogPath}");
            }

            try
            {
                // Any HTTP answer (even 403 for the unsigned request) means it is serving.
                using var response = await http.GetAsync(Settings.ServiceUrl, cancellationToken);
                return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
            }

            await Task.Delay(100, cancellationToken);
        }
    }

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
