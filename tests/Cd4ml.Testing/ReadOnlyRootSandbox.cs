using System.Diagnostics;
using System.Text;

namespace Cd4ml.Testing;

/// <summary>
/// Runs a command the way the operator's pods run (without a container runtime): as uid/gid 65532 with no
/// capabilities and no new privileges, in a private mount namespace where the root filesystem is read-only and only a
/// fresh tmpfs at <see cref="TmpDir"/> (the pod's emptyDir, named by TMPDIR) and the file <see cref="TerminationLog"/>
/// (the kubelet's terminationMessagePath mount) are writable. The network is the host's, so loopback servers (S3) are
/// reachable. Needs root for <c>unshare</c> and <c>mount</c>; nothing stays mounted after the command exits.
/// </summary>
public sealed class ReadOnlyRootSandbox : IDisposable
{
    private const string Script = """
        set -e
        mount -t tmpfs -o mode=1777,size=512m cd4ml-tmp "$0"
        mount --bind "$1" "$1"
        shift
        mount -o remount,bind,ro /
        exec setpriv --reuid 65532 --regid 65532 --clear-groups --no-new-privs --bounding-set -all -- "$@"
        """;

    private readonly string root;

    private ReadOnlyRootSandbox(string root)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The read-only root sandbox needs Linux mount namespaces.");
        }

        this.root = root;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101); // uid 65532 reaches TmpDir and TerminationLog
        TmpDir = Directory.CreateDirectory(Path.Combine(root, "tmp")).FullName;
        TerminationLog = Path.Combine(root, "termination-log");
        File.WriteAllBytes(TerminationLog, []);
        File.SetUnixFileMode(TerminationLog, (UnixFileMode)0b110_110_110);
    }

    /// <summary>Where the writable tmpfs is mounted inside the sandbox (an empty directory outside it).</summary>
    public string TmpDir { get; }

    /// <summary>A file writable inside the sandbox and readable outside it afterwards.</summary>
    public string TerminationLog { get; }

    /// <summary>Null when the sandbox can run here; else what is missing.</summary>
    public static string? Unavailable =>
        Environment.UserName != "root" ? "needs root (unshare --mount, mount)"
        : !File.Exists("/usr/bin/unshare") || !File.Exists("/usr/bin/setpriv") ? "needs util-linux's unshare and setpriv"
        : null;

    public static ReadOnlyRootSandbox Create() => new(Directory.CreateTempSubdirectory("cd4ml-readonly-").FullName);

    /// <summary>
    /// <c>dotnet cd4ml.dll ARGS</c> from the test's output folder (the test project references Cd4ml.Cli), which must be
    /// readable by uid 65532.
    /// </summary>
    public static IEnumerable<string> Cli(params string[] arguments)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "cd4ml.dll");
        return File.Exists(cli)
            ? ["dotnet", cli, .. arguments]
            : throw new FileNotFoundException($"{cli} is missing: the test project must reference operator/Cd4ml.Cli.");
    }

    /// <summary>
    /// Starts <paramref name="command"/> inside the sandbox with only <paramref name="environment"/> plus PATH, HOME=/
    /// and TMPDIR set (what a container sees; the environment may override TMPDIR).
    /// </summary>
    public Process Start(IEnumerable<string> command, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--mount", "--propagation", "private", "--", "sh", "-c", Script, TmpDir, TerminationLog })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var argument in command)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        start.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        start.Environment["HOME"] = "/";
        start.Environment["TMPDIR"] = TmpDir;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    /// <summary>Runs to completion; returns the exit code and both outputs.</summary>
    public async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> command,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        using var process = Start(command, environment);
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sandboxed {string.Join(' ', command)} did not exit in {timeout}:\n{output}");
        }

        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
