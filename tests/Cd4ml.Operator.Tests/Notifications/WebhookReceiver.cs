using System.Net;
using System.Threading.Channels;
using Cd4ml.LocalCluster;

namespace Cd4ml.Operator.Tests.Notifications;

/// <summary>
/// A webhook receiver on 127.0.0.1: records every request body and answers with the next status from a script
/// (the last one repeats), or never answers while <see cref="Hang"/> is set.
/// </summary>
internal sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Channel<string> bodies = Channel.CreateUnbounded<string>();
    private readonly Queue<HttpStatusCode> script;
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int requests;

    public WebhookReceiver(params HttpStatusCode[] statuses)
    {
        script = new Queue<HttpStatusCode>(statuses.Length > 0 ? statuses : [HttpStatusCode.OK]);
        var port = LoopbackPorts.Free();
        Url = $"http://127.0.0.1:{port}/hooks/T000/SECRET-PATH";
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        _ = ServeAsync();
    }

    public string Url { get; }

    public bool Hang { get; init; }

    public int Requests => Volatile.Read(ref requests);

    public async Task<string> NextBodyAsync(TimeSpan timeout) => await bodies.Reader.ReadAsync().AsTask().WaitAsync(timeout);

    public bool TryReadBody(out string? body) => bodies.Reader.TryRead(out body);

    public void Dispose()
    {
        released.TrySetResult();
        listener.Close();
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (!listener.IsListening)
            {
                return;
            }

            _ = AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        using var reader = new StreamReader(context.Request.InputStream);
        var body = await reader.ReadToEndAsync();
        Interlocked.Increment(ref requests);
        bodies.Writer.TryWrite(body);
        if (Hang)
        {
            await released.Task;
            return;
        }

        HttpStatusCode status;
        lock (script)
        {
            status = script.Count > 1 ? script.Dequeue() : script.Peek();
        }

        try
        {
            context.Response.StatusCode = (int)status;
            context.Response.Close();
        }
        catch (Exception)
        {
            // The client gave up meanwhile.
        }
    }
}
