namespace Cd4ml.Runtime.Controllers;

/// <summary>A controller loop the manager starts when it becomes leader.</summary>
public interface IController
{
    string Name { get; }

    /// <summary>
    /// Processes keys until <paramref name="stop"/> fires, then stops taking work and lets in-flight reconciles
    /// finish for up to <paramref name="shutdownGrace"/> before cancelling them.
    /// </summary>
    Task RunAsync(CancellationToken stop, TimeSpan shutdownGrace);
}
