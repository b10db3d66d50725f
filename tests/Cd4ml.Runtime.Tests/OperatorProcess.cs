using System.Collections.Concurrent;
using System.Diagnostics;
using Cd4ml.Runtime.TestHost;

namespace Cd4ml.Runtime.Tests;

/// <summary>The Widget test host running as a separate operator process.</summary>
internal sealed class OperatorProcess : IDisposable
{
    private readonly Process process;

    private OperatorProcess(string identity, Process process)
    {
        Identity = identity;
        this.process = process;
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Identity { get; }

    public ConcurrentQueue<string> Output { get; } = new();

    public int Reconciles => Output.Count(line => line.StartsWith("reconciled "));

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public static OperatorProcess Start(string kubeconfig, string @namespace, string identity)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     typeof(Widget).Assembly.Location, "--kubeconfig", kubeconfig, "--namespace", @namespace,
                     "--identity", identity,
                 })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Logging__LogLevel__Default"] = "Information";
        return new OperatorProcess(identity, Process.Start(start)!);
    }

    public void Kill() => process.Kill(entireProcessTree: true);

    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]);
        kill.WaitForExit();
    }

    public Task WaitForExitAsync(TimeSpan timeout) => process.WaitForExitAsync().WaitAsync(timeout);

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }

    private void Collect(string? line)
    {
        if (line is not null)
        {
            Output.Enqueue(line);
        }
    }
}
