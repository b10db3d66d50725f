using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Runtime.Tests;

/// <summary>
/// Keeps what would be logged at <paramref name="minimum"/> and above (Information, like the operator's default):
/// level, formatted message and exception.
/// </summary>
internal sealed class CapturingLoggerFactory(LogLevel minimum = LogLevel.Information) : ILoggerFactory, ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> entries = new();

    public IReadOnlyCollection<(LogLevel Level, string Message, Exception? Exception)> Entries => entries;

    public IEnumerable<string> Messages(LogLevel level) => entries.Where(e => e.Level == level).Select(e => e.Message);

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            entries.Enqueue((logLevel, formatter(state, exception), exception));
        }
    }

    public void Dispose()
    {
    }
}
