using System.CommandLine;
using k8s.Exceptions;

namespace Cd4ml.Kubectl;

/// <summary>
/// `cd4ml kubectl …`, installed as the kubectl plugin `kubectl-cd4ml` (a script running `cd4ml kubectl "$@"`):
/// get, compare, promote, abort, retry, approve. Needs nothing but the user's kubeconfig.
/// </summary>
public static class KubectlCommand
{
    public const string Name = "kubectl";

    public static Command Create(Func<PluginConsole> console)
    {
        var options = new ConnectionOptions();
        var command = new Command(Name, "The kubectl plugin (kubectl cd4ml): trees of runs, versions and rollouts; comparisons; steering")
        {
            options.Kubeconfig, options.Context, options.Namespace,
        };
        foreach (var sub in Commands(options, console))
        {
            command.Subcommands.Add(sub);
        }

        return command;
    }

    /// <summary>Parses and runs plugin arguments (as after `kubectl cd4ml`), writing to <paramref name="console"/>.</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> arguments, PluginConsole console, CancellationToken ct = default)
    {
        var root = new RootCommand("kubectl cd4ml");
        var options = new ConnectionOptions();
        root.Options.Add(options.Kubeconfig);
        root.Options.Add(options.Context);
        root.Options.Add(options.Namespace);
        foreach (var sub in Commands(options, () => console))
        {
            root.Subcommands.Add(sub);
        }

        var configuration = new InvocationConfiguration { Output = console.Output, Error = console.Error };
        return root.Parse(arguments).InvokeAsync(configuration, ct);
    }

    private static IEnumerable<Command> Commands(ConnectionOptions options, Func<PluginConsole> console) =>
    [
        GetCommand.Create(options, console),
        CompareCommand.Create(options, console),
        .. SteerCommands.Create(options, console),
    ];

    /// <summary>Runs <paramref name="action"/> against the cluster; a <see cref="PluginException"/> becomes "error: …" and exit code 1.</summary>
    internal static async Task<int> RunAsync(ParseResult parse, ConnectionOptions options, PluginConsole console,
        Func<PluginClient, Task<int>> action)
    {
        try
        {
            using var connection = ClusterConnection.Open(parse.GetValue(options.Kubeconfig), parse.GetValue(options.Context),
                parse.GetValue(options.Namespace));
            return await action(new PluginClient(connection));
        }
        catch (PluginException e)
        {
            await console.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
        catch (KubeConfigException e)
        {
            await console.Error.WriteLineAsync($"error: kubeconfig: {e.Message}");
            return 1;
        }
    }
}

/// <summary>The connection flags kubectl users know, accepted before or after the sub-command.</summary>
internal sealed class ConnectionOptions
{
    public Option<string?> Kubeconfig { get; } = new("--kubeconfig")
    {
        Description = "Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)",
        Recursive = true,
    };

    public Option<string?> Context { get; } = new("--context")
    {
        Description = "Kubeconfig context (default: the current context)",
        Recursive = true,
    };

    public Option<string?> Namespace { get; } = new("--namespace", "-n")
    {
        Description = "Namespace (default: the context's namespace, else default)",
        Recursive = true,
    };
}
