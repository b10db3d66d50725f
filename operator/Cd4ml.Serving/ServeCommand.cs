using Microsoft.Extensions.Logging;

namespace Cd4ml.Serving;

/// <summary>
/// <c>cd4ml serve</c>: runs a <see cref="ModelServer"/> until SIGTERM (or <c>ct</c>), then stops gracefully.
/// Exit codes: 0 after a graceful stop; 1 when the address cannot be bound.
/// </summary>
public static class ServeCommand
{
    public static async Task<int> RunAsync(ServeSettings settings, CancellationToken ct)
    {
        ModelServer server;
        try
        {
            server = await ModelServer.StartAsync(settings, cancellationToken: ct);
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"Cannot listen on {settings.ListenHost}:{settings.Port}: {e.Message}");
            return 1;
        }

        await using (server)
        {
            await server.WaitForShutdownAsync(ct);
        }

        return 0;
    }
}
