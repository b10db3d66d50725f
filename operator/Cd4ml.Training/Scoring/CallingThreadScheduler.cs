namespace Cd4ml.Training.Scoring;

/// <summary>
/// Runs scoring on the calling thread, including the work ML.NET hands to <see cref="Parallel"/>: LightGBM's multiclass
/// model (one-versus-all) scores every class with <c>Parallel.For</c> per row, which uses <see cref="TaskScheduler.Current"/>.
/// Under this scheduler that loop runs inline with one worker, instead of queueing to the thread pool and blocking
/// the request's thread until a pool thread picks the work up: with every pool thread busy in such a wait, a server
/// under 16 concurrent requests starved (20 requests/s, or none completed).
/// </summary>
internal sealed class CallingThreadScheduler : TaskScheduler
{
    private static readonly CallingThreadScheduler Instance = new();

    /// <summary>Parallel loops started under this scheduler use one worker: the calling thread.</summary>
    public override int MaximumConcurrencyLevel => 1;

    public static T Run<T>(Func<T> work)
    {
        var task = new Task<T>(work);
        task.RunSynchronously(Instance);
        return task.GetAwaiter().GetResult();
    }

    protected override void QueueTask(Task task) => TryExecuteTask(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => [];
}
