namespace Cd4ml.Training;

/// <summary>
/// Keeps the newest <c>capacity</c> rows of a stream, as sorting them all by time (a stable sort: on equal times the later
/// row counts as newer) and keeping the last <c>capacity</c> would, but holding only those.
/// </summary>
internal sealed class NewestRows(int capacity)
{
    // A min-heap on (time, arrival): its root is the row the next newer one evicts.
    private readonly PriorityQueue<string?[], (DateTimeOffset Time, long Arrival)> rows = new();
    private long arrivals;

    /// <summary>Whether a row at <paramref name="time"/> arriving now would be kept; if not, it need not be built.</summary>
    public bool Admits(DateTimeOffset time) =>
        capacity > 0 && (rows.Count < capacity || (rows.TryPeek(out _, out var oldest) && time >= oldest.Time));

    public void Add(DateTimeOffset time, string?[] row)
    {
        if (!Admits(time))
        {
            return;
        }

        var key = (time, arrivals++);
        if (rows.Count < capacity)
        {
            rows.Enqueue(row, key);
        }
        else
        {
            rows.DequeueEnqueue(row, key);
        }
    }

    /// <summary>The kept rows, oldest first; empties the set.</summary>
    public List<string?[]> OldestFirst()
    {
        var oldestFirst = new List<string?[]>(rows.Count);
        while (rows.TryDequeue(out var row, out _))
        {
            oldestFirst.Add(row);
        }

        return oldestFirst;
    }
}
