using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cd4ml.Operator.Dashboard;

/// <summary>
/// The read-only dashboard under /dashboard on the operator's own listener: GET only, HTML with inline SVG charts,
/// no script and nothing fetched from elsewhere.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>Pages reload themselves this often; <c>?refresh=0</c> turns it off.</summary>
    public const int RefreshSeconds = 15;

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        return services.AddSingleton<DashboardData>();
    }

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder endpoints)
    {
        // Resolved now so its informers are registered before the controller manager starts them.
        var data = endpoints.ServiceProvider.GetRequiredService<DashboardData>();
        var time = endpoints.ServiceProvider.GetRequiredService<TimeProvider>();
        var group = endpoints.MapGroup("/dashboard");
        group.MapGet("/", (HttpRequest request) => Page(OverviewPage.Render(data, Refresh(request))));
        group.MapGet("/models/{ns}/{model}", (string ns, string model, HttpRequest request) =>
            Page(ModelPage.Render(data, ns, model, Refresh(request))));
        group.MapGet("/deployments/{ns}/{name}", async (string ns, string name, HttpRequest request, CancellationToken ct) =>
        {
            if (data.Deployment(ns, name) is not { } deployment)
            {
                return NotFound(ns, name);
            }

            var events = await data.EventsAsync(deployment, ct).ConfigureAwait(false);
            var monitoring = await data.MonitoringAsync(deployment, ct).ConfigureAwait(false);
            return Page(RolloutPage.Render(deployment, events, monitoring, time.GetUtcNow().UtcDateTime, Refresh(request)));
        });
        group.MapGet("/lineage/{ns}/{name}", async (string ns, string name, HttpRequest request, CancellationToken ct) =>
        {
            if (data.Deployment(ns, name) is not { } deployment)
            {
                return NotFound(ns, name);
            }

            var pods = await data.PodsAsync(deployment, ct).ConfigureAwait(false);
            var monitoring = await data.MonitoringAsync(deployment, ct).ConfigureAwait(false);
            return Page(LineagePage.Render(data, deployment, pods, monitoring, Refresh(request)));
        });
        return endpoints;
    }

    private static int Refresh(HttpRequest request) =>
        int.TryParse(request.Query["refresh"], out var seconds) && seconds >= 0 ? seconds : RefreshSeconds;

    private static IResult Page(string html) => Results.Content(html, "text/html; charset=utf-8");

    private static IResult NotFound(string ns, string name) => Results.Content(
        Html.Page("Not found", $"<p class=\"placeholder\">No Deployment {Html.Text(ns)}/{Html.Text(name)} in the operator's cache.</p>", 0),
        "text/html; charset=utf-8", statusCode: 404);
}
