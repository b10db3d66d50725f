using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.TestHost;
using Cd4ml.Testing;
using k8s;

namespace Cd4ml.Runtime.Tests;

/// <summary>
/// Shared set-up of the tests against the shared control plane: the Widget CRD installed, a client, and a fresh
/// namespace per test named after <see cref="NamespacePrefix"/>.
/// </summary>
public abstract class WidgetTests
{
    protected ControlPlane plane = null!;
    protected IKubernetes client = null!;
    protected ResourceClient<Widget> widgets = null!;
    protected string ns = null!;

    protected abstract string NamespacePrefix { get; }

    [OneTimeSetUp]
    public async Task StartControlPlane()
    {
        plane = await ControlPlane.SharedAsync();
        client = plane.CreateClient();
        await WidgetCrd.InstallAsync(client);
        widgets = new ResourceClient<Widget>(client);
    }

    [SetUp]
    public async Task FreshNamespace() => ns = await plane.CreateNamespaceAsync(NamespacePrefix);

    [OneTimeTearDown]
    public void DisposeClient() => client.Dispose();
}
