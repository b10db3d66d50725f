using System.Text.Json.Nodes;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Entities;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>
/// Traffic routing GatewayApi against a real control plane with a minimal HTTPRoute CRD (no Gateway controller):
/// the controller creates the track Services and keeps the route's backend weights at the canary weight.
/// </summary>
[Parallelizable(ParallelScope.Children)]
public sealed class GatewayApiRoutingTests
{
    private ControlPlane plane = null!;

    [OneTimeSetUp]
    public async Task StartControlPlane()
    {
        plane = await ControlPlane.StartAsync(new ControlPlaneOptions { Scheduler = false });
        await RolloutHarness.InstallCrdsAsync(plane);
        using var client = plane.CreateClient();
        await CrdInstaller.InstallAsync(client, [HttpRouteCrd()]);
    }

    [OneTimeTearDown]
    public async Task StopControlPlane() => await plane.DisposeAsync();

    [Test]
    public async Task CanarySteps_SetRouteWeights_RollbackAndPromotionSendAllTrafficToStable_OtherFieldsSurvive()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await CreateRouteAsync(harness, "sales-route", """[{"name":"sales","port":8080}]""");
        await harness.CreateVersionAsync("sales", 1);
        var owner = await harness.CreateDeploymentAsync("sales", Spec("sales", "sales-route",
            new CanaryStep { SetWeight = 20 }, new CanaryStep { Pause = new PauseStep() }));
        var md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");
        var routing = md.Status!.Find(ModelDeploymentReconciler.TrafficRoutingCondition)!;
        Assert.That((routing.Status, routing.Reason), Is.EqualTo(("True", "GatewayApi")));
        await WaitForWeightsAsync(harness, "sales-route", 100, 0, "all traffic on stable");

        foreach (var track in new[] { "stable", "canary" })
        {
            var service = await harness.Client.CoreV1.ReadNamespacedServiceAsync($"sales-{track}", harness.Namespace);
            Assert.That(service.Spec.Selector, Is.EqualTo(new Dictionary<string, string>
            {
                ["cd4ml.io/deployment"] = "sales", ["cd4ml.io/track"] = track,
            }));
            var reference = service.Metadata.OwnerReferences.Single();
            Assert.That((reference.Uid, reference.Controller), Is.EqualTo((owner.Metadata.Uid, (bool?)true)));
        }

        Assert.That((await harness.Client.CoreV1.ReadNamespacedServiceAsync("sales", harness.Namespace)).Spec.Selector,
            Is.EqualTo(new Dictionary<string, string> { ["cd4ml.io/deployment"] = "sales" }));

        await harness.CreateVersionAsync("sales", 2);
        md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "paused at step 2");
        Assert.That(md.Status!.CanaryWeight, Is.EqualTo(20));
        Assert.That(md.Status.Find(ModelDeploymentReconciler.TrafficRoutingCondition)!.Message, Does.Contain("sales-canary 20"));
        var route = await WaitForWeightsAsync(harness, "sales-route", 80, 20, "20% to the canary");
        Assert.That((await harness.TrackAsync("sales", "stable"))!.Spec.Replicas, Is.EqualTo(4), "stable keeps all replicas");
        Assert.That((await harness.TrackAsync("sales", "canary"))!.Spec.Replicas, Is.EqualTo(1), "ceil(4 × 20%)");
        AssertUserFieldsSurvive(route);
        Assert.That((await harness.EventsAsync("sales")).Select(e => e.Reason), Does.Contain("TrafficShifted"));

        await harness.AnnotateAsync("sales", ModelDeployment.AbortAnnotation, "1");
        await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Degraded, "rolled back");
        AssertUserFieldsSurvive(await WaitForWeightsAsync(harness, "sales-route", 100, 0, "rollback: all on stable"));

        await harness.AnnotateAsync("sales", ModelDeployment.RetryAnnotation, "1");
        await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "retried");
        await WaitForWeightsAsync(harness, "sales-route", 80, 20, "20% to the canary again");

        await harness.AnnotateAsync("sales", ModelDeployment.PromoteAnnotation, "1");
        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v2", "v2 promoted");
        AssertUserFieldsSurvive(await WaitForWeightsAsync(harness, "sales-route", 100, 0, "promoted: all on stable"));
        await harness.WaitForTrackAsync("sales", "stable",
            d => d?.Spec.Template.Metadata.Labels["cd4ml.io/model-version"] == "sales-v2", "stable on v2");
    }

    [Test]
    public async Task SteadyState_Reconcile_ReadsItsWorkloadsServicesAndRouteFromTheCaches_AndSendsNoRequest()
    {
        // No controller: the test runs the reconciler itself and sees every request it sends to the API server.
        using var requests = new RequestLog();
        await using var harness = await RolloutHarness.StartAsync(plane, runController: false, reconcilerRequests: requests);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await CreateRouteAsync(harness, "sales-route", """[{"name":"sales","port":8080}]""");
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", "sales-route"));

        async Task<(ModelDeployment Before, IReadOnlyList<string> Sent)> ReconcileAsync()
        {
            var md = await harness.GetAsync("sales");
            requests.Clear();
            await harness.Reconciler.ReconcileAsync(new ReconcileRequest<ModelDeployment>(NamespacedName.Of(md), md),
                CancellationToken.None);
            return (md, requests.Sent);
        }

        // Reconciled until v1 serves with all traffic on stable and the caches have seen the reconciler's own writes.
        var last = (Before: (ModelDeployment?)null, Sent: (IReadOnlyList<string>)[]);
        try
        {
            await RolloutHarness.WaitAsync(async () =>
            {
                last = await ReconcileAsync();
                return last.Before?.Status?.Phase == ModelDeploymentStatus.Healthy && last.Sent.Count == 0;
            }, "a steady state in which a reconcile sends nothing", seconds: 60);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"phase {last.Before?.Status?.Phase}; the last reconcile sent: {string.Join(", ", last.Sent)}");
        }

        await AssertWeightsAsync(harness, 100, 0, "all traffic on stable");
        Assert.That((await harness.TrackAsync("sales", "stable"))?.Spec.Replicas, Is.EqualTo(4));
        foreach (var round in Enumerable.Range(1, 3))
        {
            Assert.That((await ReconcileAsync()).Sent, Is.Empty, $"steady-state reconcile {round}: no GET of what the caches hold, no write");
        }
    }

    [Test]
    public async Task RouteWeight_MovesOnlyOnceTheStepsCanaryPodsAreReady_AndAnAbortTakesItBackAtOnce()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        // Stable pods become Ready by themselves; canary pods only when the test reports them Ready.
        await using var stablePods = new FakePodReadiness(harness.Client, harness.Namespace,
            pod => pod.Metadata.Labels?.TryGetValue("cd4ml.io/track", out var track) == true && track == "stable");
        await CreateRouteAsync(harness, "sales-route", "[]");
        await harness.CreateVersionAsync("sales", 1);
        // Four replicas: weight 25 needs one canary pod, 75 needs three.
        await harness.CreateDeploymentAsync("sales", Spec("sales", "sales-route",
            new CanaryStep { SetWeight = 25 }, new CanaryStep { SetWeight = 75 }, new CanaryStep { Pause = new PauseStep() }));
        await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");
        await WaitForWeightsAsync(harness, "sales-route", 100, 0, "all traffic on stable");

        await harness.CreateVersionAsync("sales", 2);
        var md = await WaitForCanaryPodsAsync(harness, "(0/1) before moving to weight 25");
        Assert.That(md.Status!.CanaryWeight, Is.EqualTo(0));
        Assert.That(md.Status.Find(ModelDeploymentReconciler.TrafficRoutingCondition)!.Message, Does.StartWith(
            "HTTPRoute sales-route weights: sales-stable 100, sales-canary 0; waiting for canary pods to be Ready (0/1)"));
        await AssertWeightsAsync(harness, 100, 0, "no canary pod is Ready: the route is untouched");
        await harness.WaitForTrackAsync("sales", "canary", d => d?.Spec.Replicas == 1, "the canary scaled up meanwhile");

        await MarkCanaryPodsReadyAsync(harness, 1);
        await WaitForWeightsAsync(harness, "sales-route", 75, 25, "step 1's weight once its pod is Ready");
        md = await WaitForCanaryPodsAsync(harness, "(1/3) before moving to weight 75");
        Assert.That((md.Status!.CanaryWeight, md.Status.CurrentStep), Is.EqualTo(((int?)25, (int?)1)));
        await Task.Delay(RolloutDecision.ReadinessPoll + TimeSpan.FromSeconds(1));
        await AssertWeightsAsync(harness, 75, 25, "one of three pods Ready for weight 75: the route stays at 25");
        await MarkCanaryPodsReadyAsync(harness, 1);
        await WaitForCanaryPodsAsync(harness, "(2/3) before moving to weight 75");
        await AssertWeightsAsync(harness, 75, 25, "two of three pods Ready for weight 75: the route stays at 25");

        // The way back never waits: traffic leaves the canary in the reconcile that handles the abort.
        await harness.AnnotateAsync("sales", ModelDeployment.AbortAnnotation, "1");
        md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Degraded, "rolled back");
        Assert.That(md.Status!.CanaryWeight, Is.EqualTo(0));
        await AssertWeightsAsync(harness, 100, 0, "rolled back: all traffic on stable");

        await harness.AnnotateAsync("sales", ModelDeployment.RetryAnnotation, "1");
        await WaitForCanaryPodsAsync(harness, "(0/1) before moving to weight 25");
        await AssertWeightsAsync(harness, 100, 0, "retried: the new canary pod is not Ready yet");
        await MarkCanaryPodsReadyAsync(harness, 3);
        await WaitForWeightsAsync(harness, "sales-route", 25, 75, "weight 75 with three Ready canary pods");
        md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "at the pause step");
        var paused = md.Status!;
        Assert.That((paused.Find(ModelDeploymentReconciler.TrafficRoutingCondition)!.Reason, paused.CanaryWeight),
            Is.EqualTo(("GatewayApi", (int?)75)));
    }

    [Test]
    public async Task RouteWeightsEditedBySomeoneElse_AreRestoredWithinSeconds()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await CreateRouteAsync(harness, "sales-route", "[]");
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", "sales-route",
            new CanaryStep { SetWeight = 20 }, new CanaryStep { Pause = new PauseStep() }));
        await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");
        await WaitForWeightsAsync(harness, "sales-route", 100, 0, "all traffic on stable");

        // Steady state: nothing requeues the Deployment, so only the route's own change can wake the controller.
        await EditWeightsAsync(harness, canary: 50);
        AssertUserFieldsSurvive(await WaitForWeightsAsync(harness, "sales-route", 100, 0, "healthy: the edit undone",
            seconds: 5));

        await harness.CreateVersionAsync("sales", 2);
        await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "paused at step 2");
        await WaitForWeightsAsync(harness, "sales-route", 80, 20, "20% to the canary");
        await EditWeightsAsync(harness, canary: 100);
        AssertUserFieldsSurvive(await WaitForWeightsAsync(harness, "sales-route", 80, 20, "paused: the edit undone",
            seconds: 5));
    }

    [Test]
    public async Task RuleWithoutBackendRefs_GetsBothTrackServices()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await CreateRouteAsync(harness, "fraud-route", null);
        await harness.CreateVersionAsync("fraud", 1);
        await harness.CreateDeploymentAsync("fraud", Spec("fraud", "fraud-route"));
        AssertUserFieldsSurvive(await WaitForWeightsAsync(harness, "fraud-route", 100, 0, "track backends added",
            "fraud"));
    }

    [Test]
    public async Task MissingRoute_Pauses_NamingTheField_WithoutRollingBack_AndResumesOnceTheRouteExists()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", "absent",
            new CanaryStep { SetWeight = 20 }, new CanaryStep { Pause = new PauseStep() }));
        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v1", "v1 stable");
        await harness.CreateVersionAsync("sales", 2);

        var md = await harness.WaitForAsync("sales",
            d => d.Status?.CanaryVersion == "sales-v2" && d.Status.Phase == ModelDeploymentStatus.Paused, "paused on the route");
        var paused = md.Status!.Find(ModelDeploymentReconciler.PausedCondition)!;
        Assert.That(paused.Reason, Is.EqualTo("HTTPRouteNotFound"));
        Assert.That(paused.Message, Does.Contain("spec.trafficRouting.httpRoute").And.Contain("absent"));
        var routing = md.Status!.Find(ModelDeploymentReconciler.TrafficRoutingCondition)!;
        Assert.That((routing.Status, routing.Reason), Is.EqualTo(("False", "HTTPRouteNotFound")));
        Assert.That(md.Status!.AbortReason, Is.Null);
        Assert.That(md.Status.CurrentStep, Is.EqualTo(0), "no step advances without the route");
        Assert.That(harness.Rollbacks("sales"), Is.EqualTo(0));
        // Already paused while serving v1 alone: the route was missing from the start.
        var warning = (await harness.EventsAsync("sales")).Single(e => e.Reason == "Paused");
        Assert.That((warning.Type, warning.Message), Is.EqualTo(("Warning", $"Paused: {paused.Message}")));

        await CreateRouteAsync(harness, "absent", "[]");
        await WaitForWeightsAsync(harness, "absent", 80, 20, "the route found and weighted");
        md = await harness.WaitForAsync("sales",
            d => d.Status?.Find(ModelDeploymentReconciler.PausedCondition)?.Reason == "PauseStep", "at the pause step");
        Assert.That(md.Status!.Find(ModelDeploymentReconciler.TrafficRoutingCondition)!.Reason, Is.EqualTo("GatewayApi"));
    }

    [Test]
    public async Task RouteNameNotSet_Pauses_NamingTheField()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("churn", 1);
        await harness.CreateDeploymentAsync("churn", Spec("churn", null));
        var md = await harness.WaitForAsync("churn", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "paused");
        var paused = md.Status!.Find(ModelDeploymentReconciler.PausedCondition)!;
        Assert.That(paused.Reason, Is.EqualTo("HTTPRouteNotSet"));
        Assert.That(paused.Message, Does.StartWith("spec.trafficRouting.httpRoute is not set"));
        Assert.That(md.Status!.StableVersion, Is.EqualTo("churn-v1"), "the stable version is still deployed");
    }

    private static ModelDeploymentSpec Spec(string model, string? route, params CanaryStep[] steps) => new()
    {
        ModelName = model,
        Replicas = 4,
        TrafficRouting = new TrafficRouting { Mode = TrafficRoutingMode.GatewayApi, HttpRoute = route },
        Strategy = steps.Length == 0 ? null : new RolloutStrategy { Canary = new CanaryStrategy { Steps = [.. steps] } },
    };

    /// <summary>A route owned by the user: one rule with matches, a filter and timeouts, optionally backendRefs.</summary>
    private static async Task CreateRouteAsync(RolloutHarness harness, string name, string? backendRefs)
    {
        var refs = backendRefs is null ? "" : $""","backendRefs":{backendRefs}""";
        var route = JsonNode.Parse($$$"""
            {"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",
             "metadata":{"name":"{{{name}}}","namespace":"{{{harness.Namespace}}}","labels":{"team":"ml"}},
             "spec":{"parentRefs":[{"name":"public-gw"}],"hostnames":["models.example.com"],
                     "rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/predict"}}],
                               "filters":[{"type":"RequestHeaderModifier","requestHeaderModifier":{"add":[{"name":"x-team","value":"ml"}]}}],
                               "timeouts":{"request":"10s"}{{{refs}}}}]}}
            """)!;
        await harness.Client.CustomObjects.CreateNamespacedCustomObjectAsync(route, HttpRouteBackends.Group,
            HttpRouteBackends.Version, harness.Namespace, HttpRouteBackends.Plural);
    }

    private static async Task<JsonObject> ReadRouteAsync(RolloutHarness harness, string name)
    {
        using var response = await harness.Client.CustomObjects.GetNamespacedCustomObjectWithHttpMessagesAsync<JsonObject>(
            HttpRouteBackends.Group, HttpRouteBackends.Version, harness.Namespace, HttpRouteBackends.Plural, name);
        return response.Body;
    }

    /// <summary>Sets other weights on sales-route's track backends, as a user or another controller might.</summary>
    private static async Task EditWeightsAsync(RolloutHarness harness, int canary)
    {
        var route = await ReadRouteAsync(harness, "sales-route");
        Assert.That(HttpRouteBackends.SetWeights(route, "sales-stable", "sales-canary", canary,
            ServingWorkloads.DefaultPort), Is.True);
        using var _ = await harness.Client.CustomObjects.ReplaceNamespacedCustomObjectWithHttpMessagesAsync<JsonObject>(route,
            HttpRouteBackends.Group, HttpRouteBackends.Version, harness.Namespace, HttpRouteBackends.Plural, "sales-route");
    }

    private static async Task<JsonObject> WaitForWeightsAsync(RolloutHarness harness, string name, int stable, int canary,
        string what, string deployment = "sales", double seconds = 30)
    {
        JsonObject route = null!;
        await RolloutHarness.WaitAsync(async () =>
        {
            route = await ReadRouteAsync(harness, name);
            return HttpRouteBackends.WeightOf(route, $"{deployment}-stable") == stable
                   && HttpRouteBackends.WeightOf(route, $"{deployment}-canary") == canary;
        }, $"{what}: {stable}/{canary}", seconds);
        return route;
    }

    private static async Task AssertWeightsAsync(RolloutHarness harness, int stable, int canary, string why)
    {
        var route = await ReadRouteAsync(harness, "sales-route");
        Assert.That((HttpRouteBackends.WeightOf(route, "sales-stable"), HttpRouteBackends.WeightOf(route, "sales-canary")),
            Is.EqualTo(((int?)stable, (int?)canary)), why);
    }

    /// <summary>Waits until status says the route waits for canary pods, e.g. "(1/3) before moving to weight 75".</summary>
    private static Task<ModelDeployment> WaitForCanaryPodsAsync(RolloutHarness harness, string readyOfNeeded) =>
        harness.WaitForAsync("sales", d =>
            d.Status?.Find(ModelDeploymentReconciler.TrafficRoutingCondition) is { } routing
            && routing.Reason == ModelDeploymentReconciler.WaitingForCanaryPodsReason
            && routing.Message?.EndsWith($"waiting for canary pods to be Ready {readyOfNeeded}", StringComparison.Ordinal) == true,
            $"waiting for canary pods {readyOfNeeded}");

    /// <summary>Reports <paramref name="count"/> more canary pods Ready, as the kubelet would, once they exist.</summary>
    private static async Task MarkCanaryPodsReadyAsync(RolloutHarness harness, int count)
    {
        var marked = 0;
        await RolloutHarness.WaitAsync(async () =>
        {
            var pods = await harness.Client.CoreV1.ListNamespacedPodAsync(harness.Namespace,
                labelSelector: "cd4ml.io/deployment=sales,cd4ml.io/track=canary");
            foreach (var pod in pods.Items.Where(p => p.Metadata.DeletionTimestamp is null && !FakePodReadiness.IsReady(p))
                         .Take(count - marked))
            {
                try
                {
                    await FakePodReadiness.MarkReadyAsync(harness.Client, pod);
                    marked++;
                }
                catch (Exception e) when (ApiErrors.IsConflict(e) || ApiErrors.IsNotFound(e))
                {
                    // Changed or gone since the list: look again.
                }
            }

            return marked == count;
        }, $"{count} more canary pods Ready");
    }

    private static void AssertUserFieldsSurvive(JsonObject route)
    {
        Assert.That(route["metadata"]!["labels"]!.ToJsonString(), Is.EqualTo("""{"team":"ml"}"""));
        var spec = route["spec"]!;
        Assert.That(spec["parentRefs"]!.ToJsonString(), Is.EqualTo("""[{"name":"public-gw"}]"""));
        Assert.That(spec["hostnames"]!.ToJsonString(), Is.EqualTo("""["models.example.com"]"""));
        var rule = spec["rules"]!.AsArray().Single()!;
        Assert.That(rule["matches"]!.ToJsonString(), Is.EqualTo("""[{"path":{"type":"PathPrefix","value":"/predict"}}]"""));
        Assert.That(rule["filters"]![0]!["requestHeaderModifier"]!["add"]![0]!["name"]!.GetValue<string>(), Is.EqualTo("x-team"));
        Assert.That(rule["timeouts"]!["request"]!.GetValue<string>(), Is.EqualTo("10s"));
        var others = rule["backendRefs"]!.AsArray().Select(r => r!["name"]!.GetValue<string>())
            .Where(n => !n.EndsWith("-stable", StringComparison.Ordinal) && !n.EndsWith("-canary", StringComparison.Ordinal));
        Assert.That(others, Is.EqualTo(rule["backendRefs"]!.AsArray().Count == 3 ? new[] { "sales" } : Array.Empty<string>()),
            "the backendRef to the Service for both tracks stays in place");
        if (others.Any())
        {
            Assert.That(HttpRouteBackends.WeightOf(route, "sales"), Is.EqualTo(0), "it would blur the split, so it carries no traffic");
        }
    }

    /// <summary>Just enough of Gateway API's HTTPRoute for the API server to store one.</summary>
    private static V1CustomResourceDefinition HttpRouteCrd() => new()
    {
        ApiVersion = "apiextensions.k8s.io/v1",
        Kind = "CustomResourceDefinition",
        Metadata = new V1ObjectMeta
        {
            Name = "httproutes.gateway.networking.k8s.io",
            // *.k8s.io groups are protected; the upstream Gateway API CRDs carry this approval.
            Annotations = new Dictionary<string, string>
            {
                ["api-approved.kubernetes.io"] = "https://github.com/kubernetes-sigs/gateway-api/pull/2466",
            },
        },
        Spec = new V1CustomResourceDefinitionSpec
        {
            Group = HttpRouteBackends.Group,
            Scope = "Namespaced",
            Names = new V1CustomResourceDefinitionNames
            {
                Kind = "HTTPRoute", ListKind = "HTTPRouteList", Plural = HttpRouteBackends.Plural, Singular = "httproute",
            },
            Versions =
            [
                new V1CustomResourceDefinitionVersion
                {
                    Name = HttpRouteBackends.Version,
                    Served = true,
                    Storage = true,
                    Schema = new V1CustomResourceValidation
                    {
                        OpenAPIV3Schema = new V1JSONSchemaProps
                        {
                            Type = "object",
                            Properties = new Dictionary<string, V1JSONSchemaProps>
                            {
                                ["spec"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
                            },
                        },
                    },
                },
            ],
        },
    };
}
