namespace Cd4ml.Runtime.Entities;

/// <summary>Condition bookkeeping: the transition time moves only when the status changes.</summary>
public static class Conditions
{
    public const string Ready = "Ready";

    public static Condition? Find(this ResourceStatus status, string type) =>
        status.Conditions.FirstOrDefault(c => c.Type == type);

    public static bool IsTrue(this ResourceStatus status, string type) =>
        status.Find(type)?.Status == Condition.True;

    /// <summary>Sets a condition; returns true when anything changed.</summary>
    public static bool Set(this ResourceStatus status, string type, bool? value, string reason, string message,
        long? generation, DateTime? now = null)
    {
        var text = value switch { true => Condition.True, false => Condition.False, null => Condition.Unknown };
        var existing = status.Find(type);
        if (existing is null)
        {
            status.Conditions.Add(new Condition
            {
                Type = type, Status = text, Reason = reason, Message = message,
                ObservedGeneration = generation, LastTransitionTime = now ?? DateTime.UtcNow,
            });
            return true;
        }

        var changed = existing.Status != text || existing.Reason != reason || existing.Message != message
                      || existing.ObservedGeneration != generation;
        if (existing.Status != text)
        {
            existing.LastTransitionTime = now ?? DateTime.UtcNow;
        }

        existing.Status = text;
        existing.Reason = reason;
        existing.Message = message;
        existing.ObservedGeneration = generation;
        return changed;
    }

    public static bool Remove(this ResourceStatus status, string type) =>
        status.Conditions.RemoveAll(c => c.Type == type) > 0;
}
