using Cd4ml.LocalCluster;

namespace Cd4ml.Testing;

/// <summary>
/// What the test fixtures' servers (s3rver, Prometheus) share: a process on a free 127.0.0.1 port with its own
/// temporary work directory, started again on a fresh port when it does not become ready (a free port can be taken
/// between probing and binding), killed on dispose, its work directory deleted unless <see cref="KeepLogs"/> is set
/// (or CD4ML_KEEP_LOGS=1), and one shared instance per test process.
/// </summary>
public abstract class LoopbackServer : IAsyncDisposable
{
    private const int StartAttempts = 3;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly LocalProcess process;
    private bool disposed;

    protected LoopbackServer(LocalProcess process, string workDirectory, int port)
    {
        this.process = process;
        WorkDirectory = workDirectory;
        Port = port;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => process.Kill();
    }

    public int Port { get; }

    public string WorkDirectory { get; }

    public abstract string LogPath { get; }

    public bool KeepLogs { get; set; } = Environment.GetEnvironmentVariable("CD4ML_KEEP_LOGS") == "1";

    /// <summary>Name of the server in messages.</summary>
    protected abstract string Name { get; }

    /// <summary>What to ask while waiting for the server to come up.</summary>
    protected abstract Uri ReadinessUri { get; }

    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        DisposeClients();
        process.Kill();
        await process.Exited.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        if (KeepLogs)
        {
            NUnit.Framework.TestContext.Progress.WriteLine($"{Name} work directory and log kept in {WorkDirectory}");
            return;
        }

        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Launches a server (<paramref name="launch"/> gets a new work directory and a free port) and waits until it is
    /// ready; a server that exits or does not answer in time is disposed (its logs kept) and launched again.
    /// </summary>
    protected static async Task<T> StartAsync<T>(string prefix, Func<string, int, Task<T>> launch, CancellationToken cancellationToken)
        where T : LoopbackServer
    {
        Exception? lastError = null;
        for (var attempt = 0; attempt < StartAttempts; attempt++)
        {
            var server = await launch(Directory.CreateTempSubdirectory($"cd4ml-{prefix}-").FullName, LoopbackPorts.Free());
            try
            {
                await server.WaitUntilReadyAsync(cancellationToken);
                return server;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                lastError = e;
                server.KeepLogs = true;
                await server.DisposeAsync();
            }
        }

        throw new InvalidOperationException($"{prefix} did not start: {lastError?.Message}", lastError);
    }

    /// <summary>Stops a shared server if it was started (from a [SetUpFixture]'s one-time teardown).</summary>
    protected static async Task StopSharedAsync<T>(Lazy<Task<T>> shared, bool keepLogs) where T : LoopbackServer
    {
        if (!shared.IsValueCreated || !shared.Value.IsCompletedSuccessfully)
        {
            return;
        }

        var server = await shared.Value;
        server.KeepLogs = keepLogs || server.KeepLogs;
        await server.DisposeAsync();
    }

    /// <summary>Whether an answer from <see cref="ReadinessUri"/> means the server is serving.</summary>
    protected virtual bool IsReady(HttpResponseMessage response) => response.IsSuccessStatusCode;

    /// <summary>Releases the server's clients before the process is killed.</summary>
    protected virtual void DisposeClients()
    {
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {process.Exited.Result}; see {LogPath}");
            }

            try
            {
                using var response = await http.GetAsync(ReadinessUri, cancellationToken);
                if (IsReady(response))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} not ready after {ReadyTimeout}; see {LogPath}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}
