using System.Text.Json;
using System.Text.RegularExpressions;
using Cd4ml.Testing;
using NUnit.Framework;
using YamlDotNet.RepresentationModel;

namespace Cd4ml.Operator.Tests.GitOps;

/// <summary>
/// config/monitoring: the PrometheusRule's groups pass promtool (syntax and the alert unit tests), and every query in the
/// rules and the Grafana dashboard parses and uses only metrics the operator, the model server or kube-state-metrics export.
/// </summary>
public sealed partial class MonitoringConfigTests
{
    private static readonly string Folder = RepositoryRoot.Combine("config", "monitoring");

    /// <summary>Metrics of kube-state-metrics the training alert joins (not ours, so not found in our sources).</summary>
    private static readonly string[] KubeStateMetrics = ["kube_job_failed", "kube_job_owner"];

    private DirectoryInfo scratch = null!;

    [SetUp]
    public void CreateScratch() => scratch = Directory.CreateTempSubdirectory("cd4ml-monitoring-");

    [TearDown]
    public void DeleteScratch() => scratch.Delete(recursive: true);

    /// <summary>The rule groups (spec) of the PrometheusRule, as a Prometheus rule file.</summary>
    private string ExtractRules()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(Folder, "cd4ml_alerts.yaml"))));
        var rule = (YamlMappingNode)yaml.Documents.Single().RootNode;
        Assert.That(((YamlScalarNode)rule["kind"]).Value, Is.EqualTo("PrometheusRule"));
        var path = Path.Combine(scratch.FullName, "rules.yaml");
        using var writer = new StreamWriter(path);
        new YamlStream(new YamlDocument(rule["spec"])).Save(writer, assignAnchors: false);
        return path;
    }

    private static IEnumerable<string> RuleExpressions(string rulesPath)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(rulesPath)));
        return ((YamlSequenceNode)yaml.Documents.Single().RootNode["groups"])
            .SelectMany(g => (YamlSequenceNode)g["rules"])
            .Select(r => ((YamlScalarNode)r["expr"]).Value!);
    }

    private static IEnumerable<(string Panel, string Expr)> DashboardExpressions()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "cd4ml-dashboard.json")));
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()
                .Select(t => (p.GetProperty("title").GetString()!, t.GetProperty("expr").GetString()!)))
            .ToList();
    }

    /// <summary>Every metric name the C# sources register (Create{Counter,Gauge,Histogram,Summary}("cd4ml_…")).</summary>
    private static HashSet<string> ExportedMetrics()
    {
        var names = new HashSet<string>(KubeStateMetrics);
        foreach (var file in Directory.EnumerateFiles(RepositoryRoot.Combine("operator"), "*.cs", SearchOption.AllDirectories))
        {
            foreach (Match match in MetricRegistration().Matches(File.ReadAllText(file)))
            {
                var name = match.Groups["name"].Value;
                names.Add(name);
                if (match.Groups["type"].Value is "Histogram" or "Summary")
                {
                    names.UnionWith(new[] { "_bucket", "_sum", "_count" }.Select(suffix => name + suffix));
                }
            }
        }

        return names;
    }

    [GeneratedRegex("Create(?<type>Counter|Gauge|Histogram|Summary)\\(\\s*\"(?<name>cd4ml_[a-z0-9_]+)\"")]
    private static partial Regex MetricRegistration();

    [GeneratedRegex("\\b(?:cd4ml|kube)_[a-z0-9_]+")]
    private static partial Regex MetricReference();

    [Test]
    public async Task AlertRules_PassPromtoolCheck()
    {
        var check = await Tool.RunAsync("promtool", "check", "rules", ExtractRules());
        Assert.That(check.ExitCode, Is.Zero, check.All);
        Assert.That(check.All, Does.Contain("SUCCESS: 9 rules found"));
    }

    [Test]
    public async Task AlertUnitTests_RollbackTrainingFailureAndNoLeader_PassPromtoolTest()
    {
        ExtractRules();
        var tests = Path.Combine(scratch.FullName, "cd4ml_alerts_test.yaml");
        File.Copy(Path.Combine(Folder, "tests", "cd4ml_alerts_test.yaml"), tests);
        var run = await Tool.RunAsync("promtool", "test", "rules", tests);
        Assert.That(run.ExitCode, Is.Zero, run.All);
        Assert.That(run.All, Does.Contain("SUCCESS"));
    }

    [Test]
    public async Task DashboardQueries_ParseInPromtool()
    {
        var expressions = DashboardExpressions().ToList();
        Assert.That(expressions, Has.Count.GreaterThanOrEqualTo(15));
        // Each query as a recording rule, with Grafana's variables replaced as Grafana would.
        var rules = new YamlSequenceNode(expressions.Select((e, i) => (YamlNode)new YamlMappingNode(
            "record", $"cd4ml:dashboard_query:{i}",
            "expr", e.Expr.Replace("$__rate_interval", "5m").Replace("$namespace", ".*"))));
        var path = Path.Combine(scratch.FullName, "dashboard-rules.yaml");
        await using (var writer = new StreamWriter(path))
        {
            new YamlStream(new YamlDocument(new YamlMappingNode("groups", new YamlSequenceNode(
                new YamlMappingNode("name", "dashboard", "rules", rules))))).Save(writer, assignAnchors: false);
        }

        var check = await Tool.RunAsync("promtool", "check", "rules", path);
        Assert.That(check.ExitCode, Is.Zero, check.All);
    }

    [Test]
    public void EveryQuery_UsesOnlyMetricsThatAreExported()
    {
        var exported = ExportedMetrics();
        Assert.That(exported, Does.Contain("cd4ml_rollbacks_total").And.Contain("cd4ml_predictions_total")
            .And.Contain("cd4ml_prediction_duration_seconds_bucket"), "the source scan finds the metrics");
        var queries = RuleExpressions(ExtractRules()).Select(e => ("rules", e)).Concat(DashboardExpressions());
        var unknown = queries
            .SelectMany(q => MetricReference().Matches(q.Item2).Select(m => $"{q.Item1}: {m.Value}"))
            .Where(reference => !exported.Contains(reference[(reference.IndexOf(": ", StringComparison.Ordinal) + 2)..]))
            .Distinct()
            .ToList();
        Assert.That(unknown, Is.Empty, "metrics no component exports");
    }
}
