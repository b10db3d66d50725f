using System.Diagnostics;

namespace Cd4ml.Testing;

/// <summary>Runs a program to completion and captures its output.</summary>
public static class Command
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string All => Output + Error;
    }

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="arguments"/>, feeding <paramref name="stdin"/> when given; each
    /// line of standard error is also passed to <paramref name="progress"/>. Kills the process tree on timeout.
    /// </summary>
    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, string? stdin = null,
        TimeSpan? timeout = null, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        var error = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (error)
            {
                error.AppendLine(e.Data);
            }

            progress?.Invoke(e.Data);
        };
        if (!process.Start())
        {
            throw new InvalidOperationException($"{file} did not start");
        }

        process.BeginErrorReadLine();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout ?? TimeSpan.FromSeconds(60)}");
        }

        var stdout = await output;
        lock (error)
        {
            return new Result(process.ExitCode, stdout, error.ToString());
        }
    }
}
