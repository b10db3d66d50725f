using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Cd4ml.LocalCluster;

/// <summary>
/// A child process whose output (stdout and stderr) goes to a log file, stopped as Kubernetes stops containers:
/// SIGTERM, then SIGKILL after a grace period.
/// </summary>
public sealed class LocalProcess
{
    private readonly Process process;
    private readonly StreamWriter log;

    private LocalProcess(Process process, StreamWriter log)
    {
        this.process = process;
        this.log = log;
        Exited = WaitForExitAsync();
    }

    public int Id { get; private set; }

    public string Name => Path.GetFileName(process.StartInfo.FileName);

    public bool HasExited => Exited.IsCompleted;

    /// <summary>Completes with the exit code once the process has exited and its output is in the log.</summary>
    public Task<int> Exited { get; }

    /// <summary>Starts <paramref name="start"/> (its output is redirected here) appending to <paramref name="logPath"/>.</summary>
    public static LocalProcess Start(ProcessStartInfo start, string logPath)
    {
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        try
        {
            process.Start();
        }
        catch
        {
            log.Dispose();
            throw;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new LocalProcess(process, log) { Id = process.Id };
    }

    public static LocalProcess Start(string fileName, IEnumerable<string> arguments, string logPath)
    {
        var start = new ProcessStartInfo(fileName);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Start(start, logPath);
    }

    /// <summary>SIGTERM, then SIGKILL when the process has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (HasExited)
        {
            return;
        }

        Signal(Id, SigTerm);
        if (await Task.WhenAny(Exited, Task.Delay(grace)) != Exited)
        {
            Kill();
        }

        await Exited;
    }

    /// <summary>SIGKILL at once (also the last resort at process exit).</summary>
    public void Kill()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    private async Task<int> WaitForExitAsync()
    {
        await process.WaitForExitAsync();
        process.WaitForExit(); // drains the asynchronous output readers
        Write(log, $"--- {Name} exited with {process.ExitCode}");
        lock (log)
        {
            log.Dispose();
        }

        return process.ExitCode;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Signal(int pid, int signal);
}
