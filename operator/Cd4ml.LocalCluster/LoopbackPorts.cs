using System.Net;
using System.Net.Sockets;

namespace Cd4ml.LocalCluster;

public static class LoopbackPorts
{
    /// <summary>A TCP port free on <paramref name="host"/> (a loopback address) right now (another process may still take it before it is bound).</summary>
    public static int Free(string host = "127.0.0.1")
    {
        using var listener = new TcpListener(IPAddress.Parse(host), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
