using System.Diagnostics;

namespace Cd4ml.Testing;

/// <summary>Runs the real kubectl against a control plane, as a user would.</summary>
public static class Kubectl
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string All => Output + Error;
    }

    public static Task<Result> RunAsync(ControlPlane plane, string? stdin, params string[] arguments) =>
        RunAsync(plane.KubeconfigPath, stdin, arguments);

    public static async Task<Result> RunAsync(string kubeconfigPath, string? stdin, params string[] arguments)
    {
        var start = new ProcessStartInfo("kubectl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--kubeconfig");
        start.ArgumentList.Add(kubeconfigPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output, StripSkewWarning(await error));
    }

    // kubectl 1.32 warns about the 1.20 test server's version on every call.
    private static string StripSkewWarning(string error) =>
        string.Join('\n', error.Split('\n').Where(l => !l.Contains("version difference", StringComparison.Ordinal)));
}
