using Cd4ml.Runtime.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Cd4ml.Runtime.Hosting;

public static class EndpointRouteBuilderExtensions
{
    /// <summary>
    /// /metrics (Prometheus text, with <c>cd4ml_leader</c>), /healthz (the process serves requests) and /readyz
    /// (caches synced; leader or standby alike, the body says which).
    /// </summary>
    public static IEndpointRouteBuilder MapOperatorEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var metrics = endpoints.ServiceProvider.GetRequiredService<RuntimeMetrics>();
        var manager = endpoints.ServiceProvider.GetRequiredService<ControllerManager>();
        endpoints.MapMetrics("/metrics", metrics.Registry);
        endpoints.MapGet("/healthz", () => Results.Text("ok"));
        endpoints.MapGet("/readyz", () => manager.IsReady
            ? Results.Text(manager.IsLeading ? "ok: leader" : "ok: standby")
            : Results.Text("caches not synced", statusCode: 503));
        return endpoints;
    }
}
