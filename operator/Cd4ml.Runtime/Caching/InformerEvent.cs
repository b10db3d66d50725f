using k8s;

namespace Cd4ml.Runtime.Caching;

/// <summary>
/// A change seen by an informer. <see cref="Old"/> is the previously cached object for modifications;
/// for a delete <see cref="Object"/> is the last known state.
/// </summary>
public readonly record struct InformerEvent<T>(WatchEventType Type, T? Old, T Object);
