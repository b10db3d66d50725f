using System.Reflection;
using Cd4ml.Api.V1Alpha1;
using NUnit.Framework;

namespace Cd4ml.Api.Tests;

/// <summary>
/// The API assembly is what clients of the CRDs (the kubectl plugin, other programs) build on: it must stay light,
/// without the operator's web host or metrics library.
/// </summary>
public sealed class DependencyTests
{
    [Test]
    public void ApiAssembly_DependsOnNeitherPrometheusNorAspNetCore()
    {
        var closure = ReferenceClosure(typeof(TrainingRun).Assembly);

        Assert.That(closure, Does.Contain("KubernetesClient"), "the walk must reach the API's own dependencies");
        Assert.That(closure.Where(name => name.StartsWith("Prometheus", StringComparison.OrdinalIgnoreCase)
                                          || name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)),
            Is.Empty, "Cd4ml.Api must not depend on prometheus-net or ASP.NET Core (directly or through Cd4ml.Runtime)");
    }

    /// <summary>Names of every assembly reachable through references, loading each one to follow its own references.</summary>
    private static SortedSet<string> ReferenceClosure(Assembly root)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal) { root.GetName().Name! };
        var pending = new Stack<Assembly>([root]);
        while (pending.TryPop(out var assembly))
        {
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (seen.Add(reference.Name!))
                {
                    pending.Push(Assembly.Load(reference));
                }
            }
        }

        return seen;
    }
}
