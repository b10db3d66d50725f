namespace Cd4ml.Kubectl;

/// <summary>A failure the plugin explains in one line (exit code 1), without a stack trace.</summary>
public sealed class PluginException(string message) : Exception(message);
