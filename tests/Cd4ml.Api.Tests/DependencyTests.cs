using System.Reflection;
using System.Text.Json;
using Cd4ml.Api.V1Alpha1;
using NUnit.Framework;

namespace Cd4ml.Api.Tests;

/// <summary>
/// The API assembly is what clients of the CRDs (the kubectl plugin, other programs) build on: it must stay light,
/// without the operator's web host or metrics library.
/// </summary>
public sealed class DependencyTests
{
    private static bool IsOperatorHosting(string name) =>
        name.StartsWith("prometheus", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)
        || name == "Cd4ml.Runtime";

    [Test]
    public void ApiAssembly_ReferencesNeitherPrometheusNorAspNetCore()
    {
        var closure = ReferencedAssemblies(typeof(TrainingRun).Assembly);

        Assert.That(closure, Does.Contain("KubernetesClient"), "the walk must reach the API's own dependencies");
        Assert.That(closure.Where(IsOperatorHosting), Is.Empty);
    }

    /// <summary>
    /// What ships with Cd4ml.Api: the build's dependency graph (deps.json), which also lists projects and packages the
    /// compiled assembly happens not to reference, such as a base-type assembly reached through Cd4ml.Runtime.
    /// </summary>
    [Test]
    public void ApiProject_DependencyClosureHasNeitherPrometheusNorTheRuntime()
    {
        var closure = PackageClosure(Path.Combine(AppContext.BaseDirectory, "Cd4ml.Api.Tests.deps.json"), "Cd4ml.Api");

        Assert.That(closure, Does.Contain("KubernetesClient"), "the walk must reach the API's own dependencies");
        Assert.That(closure.Where(IsOperatorHosting), Is.Empty,
            "Cd4ml.Api must build on Cd4ml.Runtime.Entities, not on Cd4ml.Runtime (prometheus-net, ASP.NET Core)");
    }

    /// <summary>Names of every assembly reachable through references, loading each one to follow its own references.</summary>
    private static SortedSet<string> ReferencedAssemblies(Assembly root)
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

    /// <summary>Names of the projects and packages <paramref name="root"/> depends on, directly or not, per deps.json.</summary>
    private static SortedSet<string> PackageClosure(string depsFile, string root)
    {
        using var deps = JsonDocument.Parse(File.ReadAllText(depsFile));
        var libraries = deps.RootElement.GetProperty("targets").EnumerateObject().First().Value;
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([libraries.EnumerateObject().Single(l => l.Name.StartsWith(root + "/")).Name]);
        while (pending.TryPop(out var library))
        {
            seen.Add(library[..library.IndexOf('/')]);
            if (!libraries.GetProperty(library).TryGetProperty("dependencies", out var dependencies))
            {
                continue;
            }

            foreach (var dependency in dependencies.EnumerateObject())
            {
                if (!seen.Contains(dependency.Name))
                {
                    pending.Push($"{dependency.Name}/{dependency.Value.GetString()}");
                }
            }
        }

        return seen;
    }
}
