using System.Diagnostics;
using Cd4ml.Testing;
using NUnit.Framework;

namespace Cd4ml.Kubectl.Tests;

/// <summary>The plugin as users run it: kubectl finds kubectl-cd4ml (written by install-plugin.sh) on PATH.</summary>
public sealed class InstalledPluginTests
{
    [Test]
    public async Task KubectlCd4ml_RunsTheCli_WithTheKubeconfigFromTheEnvironment_AndPlainOutputWhenPiped()
    {
        var cluster = await PluginCluster.StartAsync("installed");
        await cluster.CreateAsync(Samples.CanaryInAnalysis());
        var bin = Directory.CreateTempSubdirectory("cd4ml-plugin-").FullName;
        var install = await RunAsync("bash", [RepositoryRoot.Combine("operator", "Cd4ml.Kubectl", "install-plugin.sh"), bin,
            "dotnet", Path.Combine(AppContext.BaseDirectory, "cd4ml.dll")], bin, cluster.Plane.KubeconfigPath);
        Assert.That(install.ExitCode, Is.Zero, install.ToString());

        var get = await RunAsync("kubectl", ["cd4ml", "get", "mld", "sales-api", "-n", cluster.Namespace], bin, cluster.Plane.KubeconfigPath);
        var missing = await RunAsync("kubectl", ["cd4ml", "abort", "mld", "gone", "-n", cluster.Namespace], bin, cluster.Plane.KubeconfigPath);

        Assert.Multiple(() =>
        {
            Assert.That(get.ExitCode, Is.Zero, get.ToString());
            Assert.That(get.Output, Does.StartWith("Deployment sales-api  model sales  Progressing"));
            Assert.That(get.Output, Does.Contain("canary  sales-2  weight 20%  step 2/4 analysis"));
            Assert.That(get.Output, Does.Not.Contain("\u001b"), "no escape codes when stdout is a pipe");
            Assert.That(missing.ExitCode, Is.Not.Zero);
            Assert.That(missing.Error, Does.Contain($"error: deployments.cd4ml.io \"gone\" not found in namespace \"{cluster.Namespace}\""));
        });
    }

    private static async Task<PluginResult> RunAsync(string program, string[] arguments, string bin, string kubeconfig)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // kubectl hands plugins its environment, not its flags: the kubeconfig comes from KUBECONFIG.
        start.Environment["PATH"] = $"{bin}{Path.PathSeparator}{Environment.GetEnvironmentVariable("PATH")}";
        start.Environment["KUBECONFIG"] = kubeconfig;
        start.Environment.Remove("NO_COLOR");
        start.Environment["TERM"] = "xterm-256color";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new PluginResult(process.ExitCode, await output, await error);
    }
}
