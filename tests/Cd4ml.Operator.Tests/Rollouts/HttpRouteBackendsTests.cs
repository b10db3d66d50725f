using System.Text.Json.Nodes;
using Cd4ml.Operator.Rollouts;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

public sealed class HttpRouteBackendsTests
{
    private static JsonObject Route(string rules) => JsonNode.Parse($$$"""{"spec":{"rules":{{{rules}}}}}""")!.AsObject();

    [Test]
    public void RuleNamingNeitherTrackService_GetsBoth_AndKeepsItsOtherBackends()
    {
        var route = Route("""[{"matches":[{"path":{"value":"/predict"}}],"backendRefs":[{"name":"sales","port":8080}]}]""");
        Assert.That(HttpRouteBackends.SetWeights(route, "sales-stable", "sales-canary", 20, 8080), Is.True);
        var refs = route["spec"]!["rules"]![0]!["backendRefs"]!.AsArray();
        Assert.That(refs.Select(r => r!.ToJsonString()), Is.EqualTo(new[]
        {
            """{"name":"sales","port":8080}""",
            """{"name":"sales-stable","port":8080,"weight":80}""",
            """{"name":"sales-canary","port":8080,"weight":20}""",
        }));
        Assert.That(route["spec"]!["rules"]![0]!["matches"]!.ToJsonString(), Is.EqualTo("""[{"path":{"value":"/predict"}}]"""));
    }

    [Test]
    public void ExistingTrackBackends_OnlyTheirWeightChanges_AndNothingChangesWhenAlreadySet()
    {
        var route = Route("""[{"backendRefs":[{"name":"sales-canary","port":9000,"weight":0},{"name":"sales-stable","port":9000,"weight":100,"filters":[]}]}]""");
        Assert.That(HttpRouteBackends.SetWeights(route, "sales-stable", "sales-canary", 50, 8080), Is.True);
        Assert.That(route["spec"]!["rules"]![0]!["backendRefs"]!.ToJsonString(), Is.EqualTo(
            """[{"name":"sales-canary","port":9000,"weight":50},{"name":"sales-stable","port":9000,"weight":50,"filters":[]}]"""));
        Assert.That(HttpRouteBackends.SetWeights(route, "sales-stable", "sales-canary", 50, 8080), Is.False);
    }

    [Test]
    public void BackendOfAnotherKindWithTheSameName_IsNotTouched()
    {
        var route = Route("""[{"backendRefs":[{"name":"sales-stable","kind":"ServiceImport","group":"multicluster.x-k8s.io"}]}]""");
        HttpRouteBackends.SetWeights(route, "sales-stable", "sales-canary", 10, 8080);
        Assert.That(route["spec"]!["rules"]![0]!["backendRefs"]![0]!["weight"], Is.Null);
        Assert.That(HttpRouteBackends.WeightOf(route, "sales-stable"), Is.EqualTo(90));
        Assert.That(HttpRouteBackends.WeightOf(route, "sales-canary"), Is.EqualTo(10));
    }

    [Test]
    public void BackendNamingTheServiceForBothTracks_GetsWeightZero_OthersKeepTheirs()
    {
        var route = Route("""[{"backendRefs":[{"name":"sales","port":8080},{"name":"legacy","port":80,"weight":5}]}]""");
        Assert.That(HttpRouteBackends.SetWeights(route, "sales-stable", "sales-canary", 20, 8080, bothTracksService: "sales"), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(HttpRouteBackends.WeightOf(route, "sales"), Is.EqualTo(0));
            Assert.That(HttpRouteBackends.WeightOf(route, "legacy"), Is.EqualTo(5));
            Assert.That(HttpRouteBackends.WeightOf(route, "sales-stable"), Is.EqualTo(80));
            Assert.That(HttpRouteBackends.WeightOf(route, "sales-canary"), Is.EqualTo(20));
        });
        Assert.That(HttpRouteBackends.SetWeights(route, "sales-stable", "sales-canary", 20, 8080, bothTracksService: "sales"), Is.False);
    }

    [Test]
    public void RouteWithoutRules_GetsOneRuleWithBothTracks()
    {
        var route = JsonNode.Parse("""{"spec":{"parentRefs":[{"name":"gw"}]}}""")!.AsObject();
        HttpRouteBackends.SetWeights(route, "sales-stable", "sales-canary", 0, 8080);
        Assert.That(route["spec"]!.ToJsonString(), Is.EqualTo(
            """{"parentRefs":[{"name":"gw"}],"rules":[{"backendRefs":[{"name":"sales-stable","port":8080,"weight":100},{"name":"sales-canary","port":8080,"weight":0}]}]}"""));
    }

    [TestCase(4, 0, 4, 0)]
    [TestCase(4, 20, 4, 1)]
    [TestCase(4, 50, 4, 2)]
    [TestCase(3, 1, 3, 1)]
    [TestCase(4, 100, 4, 4)]
    [TestCase(0, 50, 0, 0)]
    public void RoutedTraffic_KeepsStableAtFullReplicas_CanaryCeilOfTheWeight(int replicas, int weight, int stable, int canary) =>
        Assert.That(ReplicaSplit.ForRoutedTraffic(replicas, weight), Is.EqualTo(new ReplicaSplit(stable, canary)));
}
