using System.Globalization;
using Microsoft.Playwright;
using NUnit.Framework;

namespace Cd4ml.Dashboard.Tests;

/// <summary>Each page of the dashboard in headless chromium, reading what a live cluster holds.</summary>
[NonParallelizable]
public sealed class DashboardBrowserTests
{
    private DashboardFixture fixture = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => fixture = await DashboardFixture.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await fixture.DisposeAsync();

    [Test]
    public async Task Overview_ListsEachDeploymentWithPhaseVersionsAndWeight_AndTheModelsLatestRun()
    {
        var page = await fixture.OpenAsync("/dashboard");
        await DashboardFixture.ScreenshotAsync(page, "overview");

        var rolledBack = page.Locator($"#deployment-table tr[data-deployment='{DashboardFixture.RolledBack}']");
        Assert.That(await rolledBack.GetAttributeAsync("data-phase"), Is.EqualTo("Degraded"));
        Assert.That(await rolledBack.GetAttributeAsync("data-stable"), Is.EqualTo("churn-v2"));
        Assert.That(await rolledBack.GetAttributeAsync("data-canary"), Is.Empty);
        Assert.That(await rolledBack.InnerTextAsync(), Does.Contain("RolledBack churn-v3"));

        var progressing = page.Locator($"#deployment-table tr[data-deployment='{DashboardFixture.Progressing}']");
        Assert.That(await progressing.GetAttributeAsync("data-canary"), Is.EqualTo("churn-v3"));
        Assert.That(await progressing.GetAttributeAsync("data-weight"), Is.EqualTo("20"));
        Assert.That(await progressing.InnerTextAsync(), Does.Contain("20%").And.Contain("2/4 analysis 2m"));

        var model = page.Locator($"#model-table tr[data-model='{DashboardFixture.Model}']");
        Assert.That(await model.InnerTextAsync(), Does.Contain("3 (latest v3)").And.Contain("churn-weekly").And.Contain("auc=0.91"));
        await model.GetByRole(AriaRole.Link, new() { Name = DashboardFixture.Model }).ClickAsync();
        Assert.That(page.Url, Does.EndWith($"/dashboard/models/{fixture.Namespace}/{DashboardFixture.Model}"));
    }

    [Test]
    public async Task ModelPage_PlotsEachMetricAcrossVersions_WithTheQualityGateAsALine_AndApprovalAndAttempts()
    {
        var page = await fixture.OpenAsync($"/dashboard/models/{fixture.Namespace}/{DashboardFixture.Model}");
        await DashboardFixture.ScreenshotAsync(page, "model");

        var points = page.Locator("#chart-auc circle.point");
        Assert.That(await points.CountAsync(), Is.EqualTo(3), "one point per version");
        for (var i = 0; i < 3; i++)
        {
            Assert.That(await points.Nth(i).GetAttributeAsync("data-version"), Is.EqualTo($"{i + 1}"));
            Assert.That(Parse(await points.Nth(i).GetAttributeAsync("data-value")), Is.EqualTo(DashboardFixture.Auc[i]));
        }

        // Higher versions are drawn further right and, with a higher auc, higher up (smaller y).
        var xs = await points.EvaluateAllAsync<double[]>("ps => ps.map(p => p.cx.baseVal.value)");
        var ys = await points.EvaluateAllAsync<double[]>("ps => ps.map(p => p.cy.baseVal.value)");
        Assert.That(xs, Is.Ordered.Ascending);
        Assert.That(ys, Is.Ordered.Descending);

        var gate = page.Locator("#chart-auc g.gate");
        Assert.That(await gate.CountAsync(), Is.EqualTo(1));
        Assert.That(Parse(await gate.GetAttributeAsync("data-threshold")), Is.EqualTo(DashboardFixture.AucGate));
        Assert.That(await gate.GetAttributeAsync("data-comparison"), Is.EqualTo("GreaterThanOrEqual"));
        // The gate line lies between v1 (0.78, below it) and v2 (0.84, above it).
        var gateY = await gate.Locator("line").EvaluateAsync<double>("l => l.y1.baseVal.value");
        Assert.That(gateY, Is.LessThan(ys[0]).And.GreaterThan(ys[1]));

        Assert.That(await page.Locator("#chart-logloss circle.point").CountAsync(), Is.EqualTo(3));
        Assert.That(await page.Locator("#chart-logloss g.gate").CountAsync(), Is.Zero, "no gate on logloss");

        Assert.That(await page.Locator("#version-table tr[data-version='2']").GetAttributeAsync("data-approved"), Is.EqualTo("true"));
        Assert.That(await page.Locator("#version-table tr[data-version='3']").InnerTextAsync(), Does.Contain("not approved"));
        var attempts = page.Locator("table.attempts[data-run='churn-weekly'] tbody tr");
        Assert.That(await attempts.CountAsync(), Is.EqualTo(3));
        Assert.That(await attempts.Nth(2).InnerTextAsync(), Does.Contain("churn-v3").And.Contain(DashboardFixture.DatasetDigest));
    }

    [Test]
    public async Task RolloutPage_DrawsWeightSteps_EachMeasurementAgainstItsThreshold_AndTheRollbackMarkerWithItsReason()
    {
        var page = await fixture.OpenAsync($"/dashboard/deployments/{fixture.Namespace}/{DashboardFixture.RolledBack}");
        await DashboardFixture.ScreenshotAsync(page, "rollout");

        Assert.That(await page.Locator("#abort-reason").InnerTextAsync(), Does.Contain(DashboardFixture.AbortReason));
        Assert.That(await page.Locator(".read-problem").CountAsync(), Is.Zero, "events and status.monitoring were read");

        // Started at 0, 20% after step 1, still 20% after the analysis, 50% after step 3, back to 0 on rollback.
        var steps = page.Locator("#weight-chart circle.weight-step");
        var weights = await steps.EvaluateAllAsync<string[]>("ps => ps.map(p => p.dataset.weight)");
        Assert.That(weights, Is.EqualTo(new[] { "0", "20", "20", "50", "0" }));
        var times = await steps.EvaluateAllAsync<string[]>("ps => ps.map(p => p.dataset.time)");
        Assert.That(times[3], Is.EqualTo("2026-11-30 12:06:00Z"));

        var rollback = page.Locator("#weight-chart g.rollback-marker");
        Assert.That(await rollback.CountAsync(), Is.EqualTo(1));
        Assert.That(await rollback.GetAttributeAsync("data-version"), Is.EqualTo("churn-v3"));
        Assert.That(await rollback.GetAttributeAsync("data-reason"), Is.EqualTo(DashboardFixture.AbortReason));
        Assert.That(await rollback.GetAttributeAsync("data-time"), Is.EqualTo("2026-11-30 12:08:00Z"));
        // The marker stands where the last step (the rollback to 0%) is drawn.
        var markerX = await rollback.Locator("line").EvaluateAsync<double>("l => l.x1.baseVal.value");
        Assert.That(await steps.Nth(4).EvaluateAsync<double>("p => p.cx.baseVal.value"), Is.EqualTo(markerX).Within(0.01));

        var measurements = page.Locator("#measurements-error-rate circle.measurement");
        Assert.That(await measurements.CountAsync(), Is.EqualTo(2));
        Assert.That(await measurements.EvaluateAllAsync<string[]>("ps => ps.map(p => p.dataset.phase)"), Is.EqualTo(new[] { "Successful", "Failed" }));
        Assert.That((await measurements.EvaluateAllAsync<string[]>("ps => ps.map(p => p.dataset.value)")).Select(Parse), Is.EqualTo(new[] { 0.01, 0.2 }));
        var threshold = page.Locator("#measurements-error-rate g.threshold");
        Assert.That(Parse(await threshold.GetAttributeAsync("data-threshold")), Is.EqualTo(DashboardFixture.ErrorRateMax));
        // The passing measurement sits below the max line, the failing one above it.
        var thresholdY = await threshold.Locator("line").EvaluateAsync<double>("l => l.y1.baseVal.value");
        var measurementYs = await measurements.EvaluateAllAsync<double[]>("ps => ps.map(p => p.cy.baseVal.value)");
        Assert.That(measurementYs[0], Is.GreaterThan(thresholdY));
        Assert.That(measurementYs[1], Is.LessThan(thresholdY));

        var history = page.Locator("#history-table tbody tr");
        Assert.That(await history.EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.outcome)"), Is.EqualTo(new[] { "Promoted", "RolledBack" }));
        Assert.That(await page.Locator("#monitoring-placeholder").IsVisibleAsync(), Is.True,
            "without status.monitoring the section says live quality and drift are not recorded");
    }

    [Test]
    public async Task RolloutPage_OfACanaryInProgress_EndsAtTheWeightItHasNow()
    {
        var page = await fixture.OpenAsync($"/dashboard/deployments/{fixture.Namespace}/{DashboardFixture.Progressing}");
        await DashboardFixture.ScreenshotAsync(page, "rollout-progressing");

        var weights = await page.Locator("#weight-chart circle.weight-step").EvaluateAllAsync<string[]>("ps => ps.map(p => p.dataset.weight)");
        Assert.That(weights, Is.EqualTo(new[] { "20" }), "no events recorded for it, only the weight in status");
        Assert.That(await page.Locator("#weight-chart g.rollback-marker").CountAsync(), Is.Zero);
        Assert.That(await page.Locator("#abort-reason").CountAsync(), Is.Zero);
        Assert.That(await page.Locator("#rollout-summary").InnerTextAsync(), Does.Contain("20% (requested 20%)"));
    }

    [Test]
    public async Task LineagePage_FollowsEachTrackFromDatasetDigestThroughRunAttemptAndArtifactToItsPods()
    {
        var page = await fixture.OpenAsync($"/dashboard/lineage/{fixture.Namespace}/{DashboardFixture.Progressing}");
        var canary = page.Locator("section[data-track='canary']");
        Assert.That(await canary.Locator("[data-step='dataset'] code[data-digest]").InnerTextAsync(), Is.EqualTo(DashboardFixture.DatasetDigest));
        Assert.That(await canary.Locator("[data-step='training'] [data-attempt]").InnerTextAsync(), Is.EqualTo("#3"));
        Assert.That(await canary.Locator("[data-step='version'] code[data-sha256]").InnerTextAsync(), Is.EqualTo(new string('d', 64)));
        Assert.That(await canary.Locator("[data-step='deployment']").InnerTextAsync(), Does.Contain("20% of traffic"));

        page = await fixture.OpenAsync($"/dashboard/lineage/{fixture.Namespace}/{DashboardFixture.RolledBack}");
        await DashboardFixture.ScreenshotAsync(page, "lineage");
        Assert.That(await page.Locator(".read-problem").CountAsync(), Is.Zero, "pods and status.monitoring were read");
        Assert.That(await page.Locator("section[data-track='canary']").CountAsync(), Is.Zero, "rolled back: only stable serves");
        var stable = page.Locator("section[data-track='stable']");
        Assert.That(await stable.Locator("[data-step='version'] code[data-sha256]").InnerTextAsync(), Is.EqualTo(new string('c', 64)));
        Assert.That(await stable.Locator("tr[data-pod]").EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.pod)"),
            Is.EqualTo(new[] { "churn-stable-0", "churn-stable-1" }));
    }

    [Test]
    public async Task UnknownDeployment_IsNotFound_AndTheDashboardAcceptsNoWrites()
    {
        using var http = new HttpClient();
        var missing = await http.GetAsync($"{fixture.Url}/dashboard/deployments/{fixture.Namespace}/no-such");
        Assert.That((int)missing.StatusCode, Is.EqualTo(404));
        var post = await http.PostAsync($"{fixture.Url}/dashboard/deployments/{fixture.Namespace}/{DashboardFixture.RolledBack}", null);
        Assert.That((int)post.StatusCode, Is.EqualTo(405));
    }

    private static double Parse(string? text) => double.Parse(text!, CultureInfo.InvariantCulture);
}
