using System.Collections.Concurrent;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Status;
using Cd4ml.Runtime.TestHost;
using k8s;

namespace Cd4ml.Runtime.Tests;

/// <summary>Writes status.observedSize = spec.size and remembers every request it saw.</summary>
internal sealed class RecordingReconciler(IKubernetes client) : IReconciler<Widget>
{
    private readonly StatusWriter<Widget> status = new(client);

    public ConcurrentQueue<(NamespacedName Key, bool Deleted, long? Generation)> Requests { get; } = new();

    public Func<ReconcileRequest<Widget>, Task>? Before { get; set; }

    public int CountFor(string name) => Requests.Count(r => r.Key.Name == name);

    public bool SawDeleteOf(string name) => Requests.Any(r => r.Key.Name == name && r.Deleted);

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest<Widget> request, CancellationToken ct)
    {
        Requests.Enqueue((request.Key, request.IsDeleted, request.Entity?.Metadata.Generation));
        if (Before is not null)
        {
            await Before(request);
        }

        if (request.Entity is null)
        {
            return ReconcileResult.Done();
        }

        await status.UpdateAsync(request.Entity, w => w.EnsureStatus().ObservedSize = w.Spec.Size, ct);
        return ReconcileResult.Done();
    }
}
