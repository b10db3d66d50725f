using System.Text;
using Cd4ml.Api;
using Cd4ml.Api.Schema;
using Cd4ml.Runtime.Client;
using Cd4ml.Testing;
using k8s;
using k8s.Models;

namespace Cd4ml.Kubectl.Tests;

/// <summary>A namespace on the shared control plane with the cd4ml CRDs, and the plugin run in-process against it.</summary>
public sealed class PluginCluster
{
    private static readonly SemaphoreSlim CrdsOnce = new(1, 1);
    private static bool crdsInstalled;

    private PluginCluster(ControlPlane plane, IKubernetes client, string @namespace)
    {
        Plane = plane;
        Client = client;
        Namespace = @namespace;
    }

    public ControlPlane Plane { get; }

    public IKubernetes Client { get; }

    public string Namespace { get; }

    public static async Task<PluginCluster> StartAsync(string prefix)
    {
        var plane = await ControlPlane.SharedAsync();
        var client = plane.CreateClient();
        await CrdsOnce.WaitAsync();
        try
        {
            if (!crdsInstalled)
            {
                await CrdInstaller.InstallAsync(client, ApiKinds.All.Select(CrdGenerator.Generate));
                crdsInstalled = true;
            }
        }
        finally
        {
            CrdsOnce.Release();
        }

        return new PluginCluster(plane, client, await plane.CreateNamespaceAsync(prefix));
    }

    /// <summary>Creates the object, then writes its status through the status subresource, as the operator would.</summary>
    public async Task<T> CreateAsync<T>(T entity) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var resources = new ResourceClient<T>(Client);
        entity.Metadata.NamespaceProperty = Namespace;
        var status = (entity as Runtime.Entities.IHasStatus)?.Status;
        var created = await resources.CreateAsync(entity);
        if (status is null)
        {
            return created;
        }

        entity.Metadata.ResourceVersion = created.Metadata.ResourceVersion;
        return await resources.ReplaceStatusAsync(entity);
    }

    public Task<T?> GetAsync<T>(string name) where T : class, IKubernetesObject<V1ObjectMeta> =>
        new ResourceClient<T>(Client).GetAsync(Namespace, name);

    public Task<T> ReplaceStatusAsync<T>(T entity) where T : class, IKubernetesObject<V1ObjectMeta> =>
        new ResourceClient<T>(Client).ReplaceStatusAsync(entity);

    /// <summary>Runs `kubectl cd4ml ARGS` in-process with the admin kubeconfig in this namespace; output as piped (plain).</summary>
    public Task<PluginResult> RunAsync(params string[] arguments) =>
        RunAsync(Plane.KubeconfigPath, ["-n", Namespace, .. arguments], CancellationToken.None);

    public static async Task<PluginResult> RunAsync(string kubeconfig, string[] arguments, CancellationToken ct,
        LockedWriter? output = null)
    {
        output ??= new LockedWriter();
        var error = new LockedWriter();
        var code = await KubectlCommand.RunAsync(["--kubeconfig", kubeconfig, .. arguments], PluginConsole.Plain(output, error), ct);
        return new PluginResult(code, output.Text, error.Text);
    }
}

public sealed record PluginResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n{Output}\n{Error}";
}

/// <summary>A text writer a test may read while a watching command still writes to it.</summary>
public sealed class LockedWriter : TextWriter
{
    private readonly StringBuilder text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public string Text
    {
        get
        {
            lock (text)
            {
                return text.ToString();
            }
        }
    }

    public override void Write(char value)
    {
        lock (text)
        {
            text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (text)
        {
            text.Append(value);
        }
    }
}
