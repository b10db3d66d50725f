using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Rollouts;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

public sealed class AnalysisTemplatesTests
{
    private const string Yaml = """
        slo:
          interval: 1m
          failureLimit: 3
          minSampleCount: 50
          prometheus:
            address: http://prometheus.platform:9090
          metrics:
            - name: error-rate
              builtin: ErrorRate
              max: 0.01
            - name: latency
              builtin: LatencyP99
              max: 0.5
        """;

    private static IReadOnlyDictionary<string, AnalysisSpec> Templates()
    {
        var (defaults, problem) = PlatformDefaults.FromConfigMap(new Dictionary<string, string> { [PlatformDefaults.AnalysisTemplatesKey] = Yaml });
        Assert.That(problem, Is.Null);
        return defaults.AnalysisTemplates!;
    }

    [Test]
    public void FromConfigMap_ReadsTemplates_InTheShapeOfADeploymentsAnalysis()
    {
        var slo = Templates()["slo"];

        Assert.That((slo.Interval, slo.FailureLimit, slo.MinSampleCount, slo.Prometheus!.Address),
            Is.EqualTo(("1m", (int?)3, (int?)50, "http://prometheus.platform:9090")));
        Assert.That(slo.Metrics!.Select(m => (m.Name, m.Builtin, m.Max)),
            Is.EqualTo(new[] { ("error-rate", (BuiltinMetric?)BuiltinMetric.ErrorRate, (double?)0.01), ("latency", BuiltinMetric.LatencyP99, 0.5) }));
    }

    [TestCase("slo: [not, a, map]")]
    [TestCase("slo:\n  intervall: 1m")]
    [TestCase("Not_A_Label:\n  interval: 1m")]
    [TestCase("slo:\n  template: other")]
    public void FromConfigMap_MalformedTemplates_AreAProblemNamingTheKey(string yaml)
    {
        var (_, problem) = PlatformDefaults.FromConfigMap(new Dictionary<string, string> { [PlatformDefaults.AnalysisTemplatesKey] = yaml });

        Assert.That(problem?.Key, Is.EqualTo(PlatformDefaults.AnalysisTemplatesKey));
        Assert.That(problem!.Message, Is.Not.Empty);
    }

    [Test]
    public void Resolve_NamespaceTemplatesReplaceTheClustersOfTheSameName_AndKeepTheOthers()
    {
        var cluster = new PlatformDefaults
        {
            AnalysisTemplates = new Dictionary<string, AnalysisSpec> { ["slo"] = new() { Interval = "1m" }, ["strict"] = new() { FailureLimit = 1 } },
        };
        var team = new PlatformDefaults { AnalysisTemplates = new Dictionary<string, AnalysisSpec> { ["slo"] = new() { Interval = "10s" } } };

        var templates = PlatformDefaults.Resolve(team, cluster).AnalysisTemplates!;

        Assert.That(templates["slo"].Interval, Is.EqualTo("10s"));
        Assert.That(templates["strict"].FailureLimit, Is.EqualTo(1));
    }

    [Test]
    public void Resolve_TheTemplateIsTheBase_AndFieldsTheDeploymentSetsWin()
    {
        var (analysis, problem) = AnalysisTemplates.Resolve(new AnalysisSpec { Template = "slo", FailureLimit = 1, Window = "5m" }, Templates());

        Assert.That(problem, Is.Null);
        Assert.That((analysis!.Interval, analysis.Window, analysis.FailureLimit, analysis.MinSampleCount, analysis.Prometheus!.Address),
            Is.EqualTo(("1m", "5m", (int?)1, (int?)50, "http://prometheus.platform:9090")));
        Assert.That(analysis.Metrics!.Select(m => m.Name), Is.EqualTo(new[] { "error-rate", "latency" }));
    }

    [Test]
    public void Resolve_MetricsMergeByName_ADeploymentMetricReplacesTheTemplatesOfThatName_OthersAreAdded()
    {
        var own = new AnalysisSpec
        {
            Template = "slo",
            Metrics = [new AnalysisMetric { Name = "latency", Builtin = BuiltinMetric.LatencyP99, Max = 2 },
                       new AnalysisMetric { Name = "drift", Builtin = BuiltinMetric.Drift, Max = 0.2 }],
        };

        var (analysis, _) = AnalysisTemplates.Resolve(own, Templates());

        Assert.That(analysis!.Metrics!.Select(m => (m.Name, m.Max)),
            Is.EqualTo(new[] { ("error-rate", (double?)0.01), ("latency", 2), ("drift", 0.2) }));
    }

    [Test]
    public void Resolve_WithoutATemplate_IsTheDeploymentsOwnAnalysis()
    {
        var own = new AnalysisSpec { Interval = "5s" };

        Assert.That(AnalysisTemplates.Resolve(own, Templates()), Is.EqualTo((own, (SpecProblem?)null)));
        Assert.That(AnalysisTemplates.Resolve(null, Templates()), Is.EqualTo(((AnalysisSpec?)null, (SpecProblem?)null)));
    }

    [Test]
    public void Resolve_UnknownTemplate_IsAProblemNamingItTheKnownOnesAndWhereTemplatesAreDefined()
    {
        var (_, problem) = AnalysisTemplates.Resolve(new AnalysisSpec { Template = "gold" }, Templates());

        Assert.That(problem!.Reason, Is.EqualTo(AnalysisTemplates.UnknownTemplateReason));
        Assert.That(problem.Message, Does.Contain("gold").And.Contain("known templates: slo").And.Contain(AnalysisTemplates.Field)
            .And.Contain($"key {PlatformDefaults.AnalysisTemplatesKey} of ConfigMap {PlatformDefaults.ConfigMapName}"));
    }
}
