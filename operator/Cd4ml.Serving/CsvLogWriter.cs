using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Cd4ml.Artifacts;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Cd4ml.Serving;

/// <summary>One request's worth of rows for a <see cref="CsvLogWriter{T}"/>.</summary>
internal interface ICsvLogEntry
{
    DateTimeOffset Time { get; }

    int Rows { get; }

    /// <summary>The header row (with its line end); the first entry of a file names it.</summary>
    string Header();

    void AppendRows(CsvOutput csv);
}

/// <summary>
/// Batches rows to S3 as CSV objects <c>&lt;prefix&gt;&lt;kind&gt;/model=&lt;m&gt;/version=&lt;v&gt;/date=YYYY-MM-DD/hour=HH/&lt;host&gt;-&lt;instance&gt;-&lt;seq&gt;.csv</c>
/// (one object per hour of the rows' times per flush). <see cref="Add"/> never blocks: entries wait in a bounded channel
/// and are dropped (and counted) when it is full. A background loop turns them into CSV and uploads every
/// <c>flushRows</c> rows or <c>flushInterval</c>, whichever comes first; a failed upload is retried a few times, then
/// its rows are dropped and counted with one warning line. <see cref="DisposeAsync"/> uploads what is left.
/// </summary>
internal sealed class CsvLogWriter<T> : IAsyncDisposable where T : class, ICsvLogEntry
{
    public const int Capacity = 10_000;
    public const int FlushRows = 10_000;

    /// <summary>How long the loop lets entries gather after one arrives (at most this many wake-ups a second: 20).</summary>
    public static readonly TimeSpan GatherDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)];

    // An unreachable S3 must not hold a shutdown past the pod's grace period (30 s by default).
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<T> channel;
    private readonly S3Location folder;
    private readonly string filePrefix;
    private readonly ArtifactStore store;
    private readonly TimeSpan flushInterval;
    private readonly Counter.Child written;
    private readonly Counter.Child dropped;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly Task loop;
    private readonly Dictionary<DateTime, (CsvOutput Csv, int Rows)> pending = [];

    // Emptied buffers of earlier flushes: reused, so that a busy server does not allocate megabytes (on the large object
    // heap, which only full collections reclaim) per flush.
    private readonly Stack<CsvOutput> spare = [];
    private int pendingRows;
    private int sequence;

    public CsvLogWriter(S3Location folder, string filePrefix, ArtifactStore store, TimeSpan flushInterval, Counter.Child written,
        Counter.Child dropped, ILogger logger, TimeProvider time)
    {
        this.folder = folder;
        this.filePrefix = filePrefix;
        this.store = store;
        this.flushInterval = flushInterval;
        this.written = written;
        this.dropped = dropped;
        this.logger = logger;
        this.time = time;
        channel = Channel.CreateBounded<T>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            entry => dropped.Inc(entry.Rows));
        loop = Task.Run(RunAsync);
    }

    /// <summary>Queues an entry; when the queue is full the entry is dropped and counted.</summary>
    public void Add(T entry)
    {
        if (!channel.Writer.TryWrite(entry))
        {
            dropped.Inc(entry.Rows); // only after DisposeAsync began
        }
    }

    public async ValueTask DisposeAsync()
    {
        channel.Writer.TryComplete();
        await loop;
    }

    private async Task RunAsync()
    {
        var reader = channel.Reader;
        while (true)
        {
            var open = true;
            using (var period = new CancellationTokenSource(flushInterval, time))
            {
                while (open && !period.IsCancellationRequested)
                {
                    try
                    {
                        open = await reader.WaitToReadAsync(period.Token);
                    }
                    catch (OperationCanceledException) when (period.IsCancellationRequested)
                    {
                        break;
                    }

                    if (open)
                    {
                        // Entries come one per request: let them gather instead of waking this loop for each one, which
                        // costs the request threads a thread-pool wake-up apiece.
                        await Task.Delay(GatherDelay, time);
                    }

                    while (reader.TryRead(out var entry))
                    {
                        Append(entry);
                        if (pendingRows >= FlushRows)
                        {
                            await FlushAsync();
                        }
                    }
                }
            }

            await FlushAsync();
            if (!open)
            {
                return;
            }
        }
    }

    private void Append(T entry)
    {
        var utc = entry.Time.UtcDateTime;
        var hour = new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, DateTimeKind.Utc);
        if (!pending.TryGetValue(hour, out var batch))
        {
            batch = (spare.TryPop(out var reused) ? reused : new CsvOutput(), 0);
            batch.Csv.WriteRaw(Encoding.UTF8.GetBytes(entry.Header()));
        }

        try
        {
            entry.AppendRows(batch.Csv);
        }
        catch (Exception e)
        {
            // A defect, not an outage: the request was answered, only its log line is lost.
            logger.LogError(e, "Could not format a log entry");
            dropped.Inc(entry.Rows);
            return;
        }

        pending[hour] = (batch.Csv, batch.Rows + entry.Rows);
        pendingRows += entry.Rows;
    }

    private async Task FlushAsync()
    {
        foreach (var (hour, (csv, rows)) in pending)
        {
            var name = string.Create(CultureInfo.InvariantCulture,
                $"date={hour:yyyy-MM-dd}/hour={hour:HH}/{filePrefix}-{++sequence:D6}.csv");
            await UploadAsync(folder.Combine(name), csv, rows);
            csv.Clear();
            spare.Push(csv);
        }

        pending.Clear();
        pendingRows = 0;
    }

    private async Task UploadAsync(S3Location target, CsvOutput content, int rows)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(AttemptTimeout, time);
                await store.PutStreamAsync(target, content.AsStream(), "text/csv", timeout.Token);
                written.Inc(rows);
                return;
            }
            catch (Exception e) when (attempt < RetryDelays.Length)
            {
                logger.LogDebug(e, "Uploading {Target} failed (attempt {Attempt}), retrying", target, attempt + 1);
                await Task.Delay(RetryDelays[attempt], time);
            }
            catch (Exception e)
            {
                logger.LogWarning("Dropped {Rows} log rows: uploading {Target} failed {Attempts} times: {Error}", rows, target, attempt + 1, e.Message);
                logger.LogDebug(e, "Upload failure");
                dropped.Inc(rows);
                return;
            }
        }
    }
}
