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
        Assert.That(PublishOptions(dockerfile), Is.EqualTo(PublishOptions(File.ReadAllText(RepositoryRoot.Combine("Makefile")))),
            "`make publish` runs the Dockerfile's `dotnet publish`");
        Assert.That(PublishOptions(dockerfile), Does.Contain("-p:PublishReadyToRun=true").And.Contain("--self-contained false"));
        Assert.That(dockerfile, Does.Match(@"(?m)^USER \d+"), "the image runs as a non-root user");
    }

    /// <summary>The options of the file's one `dotnet publish` of the CLI, without output and restore flags; the RID variable as RID.</summary>
    private static string PublishOptions(string file)
    {
        var lines = Regex.Matches(file, @"dotnet publish operator/Cd4ml\.Cli (?<options>[^\n]*)").Select(m => m.Groups["options"].Value).ToList();
        Assert.That(lines, Has.Count.EqualTo(1), "one `dotnet publish operator/Cd4ml.Cli` line");
        var options = Regex.Replace(lines[0], @"\s-o\s+\S+|\s--no-restore", "");
        return Regex.Replace(options, @"""\$RID""|\$\(RID\)|\$RID", "RID").Trim();
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
