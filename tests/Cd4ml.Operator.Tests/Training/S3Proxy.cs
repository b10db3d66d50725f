using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Cd4ml.Artifacts;
using Cd4ml.LocalCluster;

namespace Cd4ml.Operator.Tests.Training;

/// <summary>
/// A loopback TCP forwarder in front of s3rver, for the tests that need S3 to go away and come back, or to know which
/// requests reached it. <see cref="Stop"/> closes the port (new connections are refused) and cuts the open ones, the
/// way a crashed S3 looks to a client with pooled connections; <see cref="Start"/> listens on the same port again.
/// Requests are counted from the HTTP/1.1 request heads on the client's side of each connection.
/// </summary>
internal sealed class S3Proxy : IDisposable
{
    private readonly int targetPort;
    private readonly List<TcpClient> open = [];
    private readonly ConcurrentQueue<(string Method, string Path)> requests = new();
    private readonly Lock gate = new();
    private TcpListener? listener;
    private CancellationTokenSource? running;

    public S3Proxy(int targetPort)
    {
        this.targetPort = targetPort;
        Port = LoopbackPorts.Free();
        Start();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    private int unparsedConnections;

    /// <summary>Connections whose requests could not be followed (a chunked request body); their requests are not counted.</summary>
    public int UnparsedConnections => Volatile.Read(ref unparsedConnections);

    /// <summary>Requests with this method for the object (path-style, query ignored) seen so far.</summary>
    public int Count(string method, S3Location location) =>
        requests.Count(r => r.Method == method && r.Path == $"/{location.Bucket}/{location.Key}");

    public void Start()
    {
        lock (gate)
        {
            if (listener is not null)
            {
                return;
            }

            var socket = new TcpListener(IPAddress.Loopback, Port);
            // The port was ours a moment ago; connections closed by Stop may still be in TIME_WAIT on it.
            socket.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Start();
            listener = socket;
            running = new CancellationTokenSource();
            _ = AcceptAsync(socket, running.Token);
        }
    }

    public void Stop()
    {
        lock (gate)
        {
            running?.Cancel();
            running?.Dispose();
            running = null;
            listener?.Stop();
            listener = null;
            foreach (var client in open)
            {
                client.Dispose();
            }

            open.Clear();
        }
    }

    public void Dispose() => Stop();

    private async Task AcceptAsync(TcpListener socket, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await socket.AcceptTcpClientAsync(ct);
            }
            catch (Exception)
            {
                return;
            }

            _ = ForwardAsync(inbound, ct);
        }
    }

    private async Task ForwardAsync(TcpClient inbound, CancellationToken ct)
    {
        var outbound = new TcpClient();
        lock (gate)
        {
            if (ct.IsCancellationRequested)
            {
                inbound.Dispose();
                outbound.Dispose();
                return;
            }

            open.Add(inbound);
            open.Add(outbound);
        }

        try
        {
            await outbound.ConnectAsync(IPAddress.Loopback, targetPort, ct);
            var client = inbound.GetStream();
            var server = outbound.GetStream();
            await Task.WhenAny(PumpRequestsAsync(client, server, ct), server.CopyToAsync(client, ct));
        }
        catch (Exception)
        {
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
            lock (gate)
            {
                open.Remove(inbound);
                open.Remove(outbound);
            }
        }
    }

    private async Task PumpRequestsAsync(Stream from, Stream to, CancellationToken ct)
    {
        var parser = new RequestHeads(this);
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, ct)) > 0)
        {
            parser.Feed(buffer.AsSpan(0, read));
            await to.WriteAsync(buffer.AsMemory(0, read), ct);
        }
    }

    /// <summary>Follows one connection's requests: a head up to the blank line, then Content-Length bytes of body.</summary>
    private sealed class RequestHeads(S3Proxy proxy)
    {
        private readonly List<byte> head = [];
        private long body;
        private bool lost;

        public void Feed(ReadOnlySpan<byte> data)
        {
            var i = 0;
            while (i < data.Length && !lost)
            {
                if (body > 0)
                {
                    var skip = (int)Math.Min(body, data.Length - i);
                    body -= skip;
                    i += skip;
                    continue;
                }

                head.Add(data[i++]);
                if (head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n')
                {
                    Parse(Encoding.ASCII.GetString(head.ToArray()));
                    head.Clear();
                }
            }
        }

        private void Parse(string text)
        {
            var lines = text.Split("\r\n");
            var requestLine = lines[0].Split(' ');
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':');
                if (colon < 0)
                {
                    continue;
                }

                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    body = long.Parse(value);
                }
                else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked"))
                {
                    lost = true;
                    Interlocked.Increment(ref proxy.unparsedConnections);
                }
            }

            if (requestLine.Length >= 2)
            {
                proxy.requests.Enqueue((requestLine[0], Uri.UnescapeDataString(requestLine[1].Split('?')[0])));
            }
        }
    }
}
