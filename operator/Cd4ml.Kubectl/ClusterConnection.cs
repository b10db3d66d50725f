using k8s;

namespace Cd4ml.Kubectl;

/// <summary>
/// The cluster and namespace to talk to, resolved the way kubectl does: --kubeconfig, else $KUBECONFIG (a list of
/// files, merged), else ~/.kube/config; --context, else the current context; -n, else the context's namespace, else
/// "default". kubectl passes a plugin its environment, not its flags, so the plugin reads the same sources itself.
/// </summary>
public sealed record ClusterConnection(IKubernetes Client, string Namespace, string Server) : IDisposable
{
    public static ClusterConnection Open(string? kubeconfig, string? context, string? @namespace)
    {
        var configuration = Load(kubeconfig, context);
        var client = new Kubernetes(configuration);
        var ns = string.IsNullOrEmpty(@namespace) ? configuration.Namespace : @namespace;
        return new ClusterConnection(client, string.IsNullOrEmpty(ns) ? "default" : ns, configuration.Host);
    }

    private static KubernetesClientConfiguration Load(string? kubeconfig, string? context)
    {
        if (!string.IsNullOrEmpty(kubeconfig))
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig, context);
        }

        var fromEnvironment = Environment.GetEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            var files = fromEnvironment.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Where(File.Exists).ToList();
            if (files.Count == 1 || (files.Count > 1 && context is not null))
            {
                // The file that defines the context asked for: the merge kubectl does, for the part a plugin uses.
                var file = context is null ? files[0]
                    : files.FirstOrDefault(f => KubernetesClientConfiguration.LoadKubeConfig(f).Contexts?.Any(c => c.Name == context) == true)
                      ?? throw new PluginException($"context \"{context}\" is in none of the KUBECONFIG files");
                return KubernetesClientConfiguration.BuildConfigFromConfigFile(file, context);
            }

            if (files.Count > 1)
            {
                // The client merges a KUBECONFIG list itself when no context is named.
                return KubernetesClientConfiguration.BuildDefaultConfig();
            }
        }

        if (File.Exists(KubernetesClientConfiguration.KubeConfigDefaultLocation))
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(currentContext: context);
        }

        if (KubernetesClientConfiguration.IsInCluster())
        {
            return KubernetesClientConfiguration.InClusterConfig();
        }

        throw new PluginException(
            "no kubeconfig: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config (as for kubectl)");
    }

    public void Dispose() => Client.Dispose();
}
