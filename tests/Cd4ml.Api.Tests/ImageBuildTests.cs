using System.Text.RegularExpressions;
using System.Xml.Linq;
using Cd4ml.Testing;
using NUnit.Framework;

namespace Cd4ml.Api.Tests;

/// <summary>No Docker engine runs here, so the Dockerfile's restore layer is checked against the projects.</summary>
public sealed class ImageBuildTests
{
    [Test]
    public void Dockerfile_CopiesEveryProjectFileTheCliRestoreNeeds()
    {
        var needed = new SortedSet<string>(StringComparer.Ordinal);
        Collect(RepositoryRoot.Combine("operator", "Cd4ml.Cli", "Cd4ml.Cli.csproj"), needed);
        var dockerfile = File.ReadAllText(RepositoryRoot.Combine("Dockerfile"));
        var copied = Regex.Matches(dockerfile, @"^COPY (operator/\S+\.csproj) ", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToHashSet();

        Assert.That(needed, Is.Not.Empty);
        Assert.That(copied, Is.SupersetOf(needed), "add a COPY line per project before `dotnet restore`");
        Assert.That(dockerfile, Does.Contain("dotnet publish operator/Cd4ml.Cli -c Release"), "keep in step with `make publish`");
        Assert.That(File.ReadAllText(RepositoryRoot.Combine("Makefile")), Does.Contain("dotnet publish operator/Cd4ml.Cli -c Release"));
        Assert.That(dockerfile, Does.Match(@"(?m)^USER \d+"), "the image runs as a non-root user");
    }

    private static void Collect(string project, ISet<string> found)
    {
        var relative = Path.GetRelativePath(RepositoryRoot.Path, project).Replace('\\', '/');
        if (!found.Add(relative))
        {
            return;
        }

        foreach (var reference in XDocument.Load(project).Descendants("ProjectReference"))
        {
            var include = reference.Attribute("Include")!.Value.Replace('\\', '/');
            Collect(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, include)), found);
        }
    }
}
