using System.Text.Json;
using Cd4ml.Operator.Notifications;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Operator.Training;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Notifications;

public sealed class NotificationPureTests
{
    private static readonly Notification RolledBack = new("team-a", "Deployment", "fraud", "RolledBack",
        "error rate 0.2 > 0.05; all traffic is back on fraud-v1", new DateTimeOffset(2026, 11, 30, 17, 0, 0, TimeSpan.Zero));

    private static readonly NotificationTarget Platform = new(new Uri("https://hooks.example/platform"),
        NotificationFormat.Json, NotificationTarget.NotifiableReasons);

    [Test]
    public void NotifiableReasons_AreTheReasonsTheControllersRecordForTheseTransitions()
    {
        Assert.That(NotificationTarget.NotifiableReasons, Is.EquivalentTo(new[]
        {
            ModelDeploymentReconciler.RolledBackReason, "Promoted", "Paused",
            TrainingRunReconciler.GatesFailed, TrainingRunReconciler.JobFailed, TrainingRunReconciler.DeadlineExceeded,
        }));
    }

    [Test]
    public void JsonBody_HasNamespaceKindNameReasonMessageAndTime()
    {
        using var json = JsonDocument.Parse(NotificationBody.Render(RolledBack, NotificationFormat.Json));
        var root = json.RootElement;
        Assert.That(root.GetProperty("namespace").GetString(), Is.EqualTo("team-a"));
        Assert.That(root.GetProperty("kind").GetString(), Is.EqualTo("Deployment"));
        Assert.That(root.GetProperty("name").GetString(), Is.EqualTo("fraud"));
        Assert.That(root.GetProperty("reason").GetString(), Is.EqualTo("RolledBack"));
        Assert.That(root.GetProperty("message").GetString(), Is.EqualTo(RolledBack.Message));
        Assert.That(root.GetProperty("time").GetDateTimeOffset(), Is.EqualTo(RolledBack.Time));
    }

    [Test]
    public void SlackBody_IsOneTextFieldNamingTheObjectAndReason()
    {
        using var json = JsonDocument.Parse(NotificationBody.Render(RolledBack, NotificationFormat.Slack));
        Assert.That(json.RootElement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "text" }));
        Assert.That(json.RootElement.GetProperty("text").GetString(),
            Is.EqualTo("[team-a] Deployment/fraud RolledBack: error rate 0.2 > 0.05; all traffic is back on fraud-v1"));
    }

    [Test]
    public void Merge_WithoutConfigMap_IsThePlatformTarget()
    {
        Assert.That(NotificationTarget.Merge(Platform, null, out var problem), Is.SameAs(Platform));
        Assert.That(problem, Is.Null);
    }

    [Test]
    public void Merge_ConfigMapKeysOverrideThePlatformOneByOne()
    {
        var merged = NotificationTarget.Merge(Platform, ConfigMap(("format", "slack"), ("reasons", "RolledBack, GatesFailed")),
            out var problem);
        Assert.That(problem, Is.Null);
        Assert.That(merged!.Url, Is.EqualTo(Platform.Url));
        Assert.That(merged.Format, Is.EqualTo(NotificationFormat.Slack));
        Assert.That(merged.Reasons, Is.EquivalentTo(new[] { "RolledBack", "GatesFailed" }));
        Assert.That(merged.Wants("Promoted"), Is.False);
    }

    [Test]
    public void Merge_NamespaceUrlWorksWithoutPlatformWebhook()
    {
        var merged = NotificationTarget.Merge(null, ConfigMap(("url", "http://team-hooks.example/x")), out _);
        Assert.That(merged!.Url, Is.EqualTo(new Uri("http://team-hooks.example/x")));
        Assert.That(merged.Format, Is.EqualTo(NotificationFormat.Json));
        Assert.That(merged.Reasons, Is.EquivalentTo(NotificationTarget.NotifiableReasons));
    }

    [Test]
    public void Merge_EmptyUrlTurnsTheNamespaceOff()
    {
        Assert.That(NotificationTarget.Merge(Platform, ConfigMap(("url", "")), out var problem), Is.Null);
        Assert.That(problem, Is.Null);
    }

    [TestCase("url", "not a url", "url must be an absolute http or https URL")]
    [TestCase("url", "ftp://hooks.example/x", "url must be an absolute http or https URL")]
    [TestCase("format", "xml", "format must be json or slack, not 'xml'")]
    [TestCase("reasons", "RolledBack,JobCreated", "reasons JobCreated never notify")]
    public void Merge_InvalidKey_TurnsTheNamespaceOffAndSaysWhichKeyAndHow(string key, string value, string expected)
    {
        Assert.That(NotificationTarget.Merge(Platform, ConfigMap((key, value)), out var problem), Is.Null);
        Assert.That(problem, Does.Contain("cd4ml-notifications").And.Contain(expected));
    }

    [Test]
    public void InvalidUrlError_DoesNotEchoTheUrl()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            NotificationTarget.FromOptions(new OperatorOptions { NotifyWebhook = "hooks.example/SECRET" }));
        Assert.That(error!.Message, Does.Contain("--notify-webhook").And.Not.Contain("SECRET"));
    }

    [Test]
    public void Redact_KeepsSchemeHostAndPortOnly()
    {
        Assert.That(NotificationTarget.Redact(new Uri("https://user:pw@hooks.slack.com/services/T0/B0/SECRET?token=x")),
            Is.EqualTo("https://hooks.slack.com/…"));
        Assert.That(NotificationTarget.Redact(new Uri("http://127.0.0.1:8081/SECRET")), Is.EqualTo("http://127.0.0.1:8081/…"));
    }

    private static V1ConfigMap ConfigMap(params (string Key, string Value)[] data) =>
        new() { Data = data.ToDictionary(d => d.Key, d => d.Value) };

    [Test]
    public void Merge_UrlSecret_TakesTheUrlFromTheSecret()
    {
        var merged = NotificationTarget.Merge(Platform, ConfigMap(("urlSecret", "team-hook")), out var problem,
            secretUrl: "https://hooks.slack.example/services/T0/B0/token");

        Assert.That(problem, Is.Null);
        Assert.That(merged!.Url, Is.EqualTo(new Uri("https://hooks.slack.example/services/T0/B0/token")));
    }

    [Test]
    public void Merge_UrlSecretMissingOrEmpty_TurnsTheNamespaceOff_SayingHowToCreateIt()
    {
        Assert.That(NotificationTarget.Merge(Platform, ConfigMap(("urlSecret", "team-hook")), out var problem, secretUrl: null), Is.Null);

        Assert.That(problem, Does.Contain("Secret 'team-hook'"));
        Assert.That(problem, Does.Contain("kubectl create secret generic team-hook --from-literal=url="));
    }

    [Test]
    public void Merge_UrlAndUrlSecretBoth_IsAProblem()
    {
        Assert.That(NotificationTarget.Merge(Platform, ConfigMap(("url", "http://a.example/x"), ("urlSecret", "s")), out var problem,
            secretUrl: "http://b.example/y"), Is.Null);

        Assert.That(problem, Does.Contain("set url or urlSecret, not both"));
    }
}
