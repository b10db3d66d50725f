using System.Net;
using System.Net.Sockets;

namespace Cd4ml.Runtime.Tests;

/// <summary>
/// A loopback TCP forwarder in front of the apiserver that can cut the operator off (a network partition) while the
/// test keeps talking to the server directly. TLS passes through untouched.
/// </summary>
internal sealed class PartitionProxy : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly int targetPort;
    private readonly List<TcpClient> open = [];
    private readonly CancellationTokenSource stop = new();
    private volatile bool cut;

    public PartitionProxy(Uri target)
    {
        targetPort = target.Port;
        listener.Start();
        _ = AcceptLoop();
    }

    public string Url => $"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";

    /// <summary>Drops every connection and refuses new ones until <see cref="Heal"/>.</summary>
    public void Cut()
    {
        cut = true;
        lock (open)
        {
            foreach (var client in open)
            {
                client.Dispose();
            }

            open.Clear();
        }
    }

    public void Heal() => cut = false;

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        Cut();
    }

    private async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            if (cut)
            {
                inbound.Dispose();
                continue;
            }

            _ = Forward(inbound);
        }
    }

    private async Task Forward(TcpClient inbound)
    {
        var outbound = new TcpClient();
        lock (open)
        {
            open.Add(inbound);
            open.Add(outbound);
        }

        try
        {
            await outbound.ConnectAsync(IPAddress.Loopback, targetPort, stop.Token);
            var a = inbound.GetStream();
            var b = outbound.GetStream();
            await Task.WhenAny(a.CopyToAsync(b, stop.Token), b.CopyToAsync(a, stop.Token));
        }
        catch (Exception)
        {
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
        }
    }
}
