using System.Text.Json.Nodes;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// Sets the canary weight in a Gateway API HTTPRoute: in every rule, the backendRefs naming the stable and canary
/// Services get weights 100-w and w (both are added to a rule that names neither). A backendRef naming the operator's
/// own Service for both tracks gets weight 0, as it would send traffic by pod count and blur the split. Other
/// backendRefs and every other field are left as the user wrote them. Pure: edits the given JSON, the caller reads and
/// writes the route.
/// </summary>
public static class HttpRouteBackends
{
    public const string Group = "gateway.networking.k8s.io";
    public const string Version = "v1";
    public const string Plural = "httproutes";

    /// <summary>Returns true when <paramref name="route"/> changed.</summary>
    public static bool SetWeights(JsonObject route, string stableService, string canaryService, int canaryWeight, int port,
        string? bothTracksService = null)
    {
        canaryWeight = Math.Clamp(canaryWeight, 0, 100);
        var spec = route["spec"] as JsonObject ?? (JsonObject)(route["spec"] = new JsonObject());
        var rules = spec["rules"] as JsonArray ?? (JsonArray)(spec["rules"] = new JsonArray());
        if (rules.Count == 0)
        {
            rules.Add(new JsonObject());
        }

        var changed = false;
        foreach (var rule in rules.OfType<JsonObject>())
        {
            var refs = rule["backendRefs"] as JsonArray ?? (JsonArray)(rule["backendRefs"] = new JsonArray());
            changed |= SetWeight(refs, stableService, 100 - canaryWeight, port);
            changed |= SetWeight(refs, canaryService, canaryWeight, port);
            foreach (var shared in refs.OfType<JsonObject>().Where(r => bothTracksService is not null && NamesService(r, bothTracksService)))
            {
                if (shared["weight"]?.GetValue<int>() != 0)
                {
                    shared["weight"] = 0;
                    changed = true;
                }
            }
        }

        return changed;
    }

    /// <summary>The weight the route gives <paramref name="service"/> in its first rule naming it, or null.</summary>
    public static int? WeightOf(JsonObject route, string service) =>
        (route["spec"]?["rules"] as JsonArray)?.OfType<JsonObject>()
        .SelectMany(rule => (rule["backendRefs"] as JsonArray)?.OfType<JsonObject>() ?? [])
        .Where(reference => NamesService(reference, service))
        .Select(reference => reference["weight"]?.GetValue<int>() ?? 1)
        .Cast<int?>()
        .FirstOrDefault();

    private static bool SetWeight(JsonArray refs, string service, int weight, int port)
    {
        var matching = refs.OfType<JsonObject>().Where(reference => NamesService(reference, service)).ToList();
        if (matching.Count == 0)
        {
            refs.Add(new JsonObject { ["name"] = service, ["port"] = port, ["weight"] = weight });
            return true;
        }

        var changed = false;
        foreach (var reference in matching)
        {
            if (reference["weight"]?.GetValue<int>() != weight)
            {
                reference["weight"] = weight;
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>A backendRef names a Service when its group is core ("") and its kind Service (both defaults).</summary>
    private static bool NamesService(JsonObject reference, string service) =>
        reference["name"]?.GetValue<string>() == service
        && (reference["group"]?.GetValue<string>() ?? "") == ""
        && (reference["kind"]?.GetValue<string>() ?? "Service") == "Service";
}
