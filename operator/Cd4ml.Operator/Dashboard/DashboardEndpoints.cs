using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

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
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DashboardEndpoints));
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

            var reads = new ApiReads(logger);
            var events = await reads.TryAsync("events", () => data.EventsAsync(deployment, ct), []).ConfigureAwait(false);
            var monitoring = await reads.TryAsync("status.monitoring", () => data.MonitoringAsync(deployment, ct), null).ConfigureAwait(false);
            return Page(RolloutPage.Render(deployment, events, monitoring, time.GetUtcNow().UtcDateTime, reads.Problems, Refresh(request)));
        });
        group.MapGet("/lineage/{ns}/{name}", async (string ns, string name, HttpRequest request, CancellationToken ct) =>
        {
            if (data.Deployment(ns, name) is not { } deployment)
            {
                return NotFound(ns, name);
            }

            var reads = new ApiReads(logger);
            var pods = await reads.TryAsync("pods", () => data.PodsAsync(deployment, ct), []).ConfigureAwait(false);
            var monitoring = await reads.TryAsync("status.monitoring", () => data.MonitoringAsync(deployment, ct), null).ConfigureAwait(false);
            return Page(LineagePage.Render(data, deployment, pods, monitoring, reads.Problems, Refresh(request)));
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

/// <summary>
/// The API reads of one page: one that fails (no permission, the API unreachable) leaves its part of the page empty
/// and says why at the top, instead of failing the whole page.
/// </summary>
internal sealed class ApiReads(ILogger logger)
{
    private readonly List<string> problems = [];

    public IReadOnlyList<string> Problems => problems;

    public async Task<T> TryAsync<T>(string what, Func<Task<T>> read, T fallback)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Dashboard could not read {What}: {Error}", what, e.Message);
            logger.LogDebug(e, "Dashboard read of {What} failed", what);
            problems.Add($"Could not read {what}: {e.Message}");
            return fallback;
        }
    }
}
