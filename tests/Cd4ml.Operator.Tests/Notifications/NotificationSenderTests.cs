using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Cd4ml.Operator.Notifications;
using Cd4ml.Runtime.Events;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Prometheus;

namespace Cd4ml.Operator.Tests.Notifications;

/// <summary>
/// Notifications end to end below the controllers: the real event recorder on the test API server, decorated as the
/// operator does, the sender in the background, and real HTTP receivers on 127.0.0.1.
/// </summary>
public sealed class NotificationSenderTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Test]
    public async Task NotifiableEvent_IsPostedAsJson_OtherEventsAreNot()
    {
        using var receiver = new WebhookReceiver();
        await using var pipeline = await Pipeline.StartAsync(receiver.Url, "json");

        await pipeline.RecordAsync(EventType.Normal, "JobCreated", "Created Job fraud-1.");
        await pipeline.RecordAsync(EventType.Warning, "RolledBack", "error rate 0.2 > 0.05; all traffic is back on v1");

        using var json = JsonDocument.Parse(await receiver.NextBodyAsync(Wait));
        var root = json.RootElement;
        Assert.That(root.GetProperty("namespace").GetString(), Is.EqualTo(pipeline.Namespace));
        Assert.That(root.GetProperty("kind").GetString(), Is.EqualTo("ConfigMap"));
        Assert.That(root.GetProperty("name").GetString(), Is.EqualTo(Pipeline.SubjectName));
        Assert.That(root.GetProperty("reason").GetString(), Is.EqualTo("RolledBack"), "JobCreated is not notifiable");
        Assert.That(root.GetProperty("message").GetString(), Is.EqualTo("error rate 0.2 > 0.05; all traffic is back on v1"));
        Assert.That(root.GetProperty("time").GetDateTimeOffset(), Is.EqualTo(DateTimeOffset.UtcNow).Within(Wait));
        var events = await pipeline.Client.CoreV1.ListNamespacedEventAsync(pipeline.Namespace);
        Assert.That(events.Items.Select(e => e.Reason), Is.SupersetOf(new[] { "JobCreated", "RolledBack" }),
            "the decorated recorder still records every event");
    }

    [Test]
    public async Task NamespaceConfigMap_OverridesThePlatformWebhookAndFormat()
    {
        using var platform = new WebhookReceiver();
        using var team = new WebhookReceiver();
        await using var pipeline = await Pipeline.StartAsync(platform.Url, "json");
        await pipeline.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = NotificationTarget.ConfigMapName },
            Data = new Dictionary<string, string> { ["url"] = team.Url, ["format"] = "slack", ["reasons"] = "Promoted" },
        }, pipeline.Namespace);

        await pipeline.RecordAsync(EventType.Warning, "RolledBack", "not wanted by the team");
        await pipeline.RecordAsync(EventType.Normal, "Promoted", "fraud-v2 promoted to stable, replacing fraud-v1");

        using var json = JsonDocument.Parse(await team.NextBodyAsync(Wait));
        Assert.That(json.RootElement.GetProperty("text").GetString(), Is.EqualTo(
            $"[{pipeline.Namespace}] ConfigMap/{Pipeline.SubjectName} Promoted: fraud-v2 promoted to stable, replacing fraud-v1"));
        Assert.That(team.TryReadBody(out _), Is.False, "RolledBack is not among the team's reasons");
        Assert.That(platform.Requests, Is.Zero, "the namespace's webhook replaces the platform's");
    }

    [Test]
    public async Task NamespaceConfigMap_UrlSecret_SendsToTheUrlInTheTeamsSecret()
    {
        using var platform = new WebhookReceiver();
        using var team = new WebhookReceiver();
        await using var pipeline = await Pipeline.StartAsync(platform.Url, "json");
        await pipeline.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "team-hook" },
            StringData = new Dictionary<string, string> { ["url"] = team.Url },
        }, pipeline.Namespace);
        await pipeline.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = NotificationTarget.ConfigMapName },
            Data = new Dictionary<string, string> { [NotificationTarget.UrlSecretKey] = "team-hook" },
        }, pipeline.Namespace);

        await pipeline.RecordAsync(EventType.Warning, "RolledBack", "error rate 0.2 > 0.05");

        using var json = JsonDocument.Parse(await team.NextBodyAsync(Wait));
        Assert.That(json.RootElement.GetProperty("reason").GetString(), Is.EqualTo("RolledBack"));
        Assert.That(platform.Requests, Is.Zero, "the team's webhook replaces the platform's");
    }

    [Test]
    public async Task ReceiverFailingOnce_GetsTheNotificationAgain()
    {
        using var receiver = new WebhookReceiver(HttpStatusCode.InternalServerError, HttpStatusCode.OK);
        await using var pipeline = await Pipeline.StartAsync(receiver.Url, "json");

        await pipeline.RecordAsync(EventType.Warning, "GatesFailed", "accuracy 0.71 < 0.80");

        var first = await receiver.NextBodyAsync(Wait);
        var retried = await receiver.NextBodyAsync(Wait);
        Assert.That(retried, Is.EqualTo(first));
        await ControlPlane.WaitUntilAsync(() => Task.FromResult(pipeline.Count("cd4ml_notifications_sent_total") == 1), Wait,
            "the retried notification counted as sent");
        Assert.That(pipeline.Count("cd4ml_notifications_failed_total"), Is.Zero);
    }

    [Test]
    public async Task ReceiverRefusingEveryAttempt_IsGivenUpCountedAndLoggedWithoutTheUrlPath()
    {
        using var receiver = new WebhookReceiver(HttpStatusCode.ServiceUnavailable);
        await using var pipeline = await Pipeline.StartAsync(receiver.Url, "json");

        await pipeline.RecordAsync(EventType.Warning, "JobFailed", "TrainingFailed: label column 'y' not found");

        await ControlPlane.WaitUntilAsync(() => Task.FromResult(pipeline.Count("cd4ml_notifications_failed_total") == 1), Wait,
            "the notification given up after its attempts");
        Assert.That(receiver.Requests, Is.EqualTo(Pipeline.Delivery.Attempts));
        var logged = string.Join("\n", pipeline.Logs);
        Assert.That(logged, Does.Contain("HTTP 503").And.Contain("127.0.0.1"));
        Assert.That(logged, Does.Not.Contain("SECRET-PATH"), "the webhook's path is a credential");
    }

    [Test]
    public async Task HangingReceiver_DoesNotDelayEventRecording_ExtraNotificationsAreDropped()
    {
        using var receiver = new WebhookReceiver { Hang = true };
        await using var pipeline = await Pipeline.StartAsync(receiver.Url, "json",
            delivery: Pipeline.Delivery with { AttemptTimeout = TimeSpan.FromMinutes(10) });
        await pipeline.RecordAsync(EventType.Warning, "RolledBack", "first");
        await receiver.NextBodyAsync(Wait); // the sender is now stuck on the hanging receiver

        var recording = Task.WhenAll(Enumerable.Range(0, 3 * Pipeline.QueueCapacity).Select(i =>
            pipeline.RecordAsync(EventType.Warning, "RolledBack", $"rollback {i}")));

        // Recording finishes while the receiver still holds the first request (its attempt may take ten minutes).
        await recording.WaitAsync(Wait);
        Assert.That(receiver.Requests, Is.EqualTo(1));
        Assert.That(pipeline.Count("cd4ml_notifications_dropped_total"), Is.EqualTo(2 * Pipeline.QueueCapacity));
    }

    /// <summary>Recorder → decorator → queue → sender, as the operator wires them, on a fresh namespace.</summary>
    private sealed class Pipeline : IAsyncDisposable
    {
        public const string SubjectName = "subject";
        public const int QueueCapacity = 4;

        public static readonly NotificationDelivery Delivery = new()
        {
            Attempts = 3,
            FirstRetryDelay = TimeSpan.FromMilliseconds(100),
            AttemptTimeout = TimeSpan.FromSeconds(10),
        };

        private readonly CollectorRegistry registry;
        private readonly NotificationSender sender;
        private readonly IEventRecorder recorder;
        private readonly V1ConfigMap subject;

        private Pipeline(IKubernetes client, string ns, CollectorRegistry registry, NotificationSender sender,
            IEventRecorder recorder, V1ConfigMap subject, ConcurrentQueue<string> logs)
        {
            Client = client;
            Namespace = ns;
            this.registry = registry;
            this.sender = sender;
            this.recorder = recorder;
            this.subject = subject;
            Logs = logs;
        }

        public IKubernetes Client { get; }

        public string Namespace { get; }

        public ConcurrentQueue<string> Logs { get; }

        public static async Task<Pipeline> StartAsync(string platformUrl, string format, NotificationDelivery? delivery = null)
        {
            var plane = await ControlPlane.SharedAsync();
            var client = plane.CreateClient();
            var ns = await plane.CreateNamespaceAsync("notify");
            var subject = await client.CoreV1.CreateNamespacedConfigMapAsync(
                new V1ConfigMap { Metadata = new V1ObjectMeta { Name = SubjectName } }, ns);
            subject.Kind = "ConfigMap";
            subject.ApiVersion = "v1";

            var logs = new ConcurrentQueue<string>();
            var loggers = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logs)));
            var registry = Prometheus.Metrics.NewCustomRegistry();
            var queue = new NotificationQueue(new NotificationMetrics(registry), QueueCapacity);
            var platform = NotificationTarget.FromOptions(new OperatorOptions { NotifyWebhook = platformUrl, NotifyFormat = format });
            var targets = new NotificationTargets(client, platform, TimeProvider.System, loggers.CreateLogger<NotificationTargets>());
            var sender = new NotificationSender(queue, targets, delivery ?? Delivery, TimeProvider.System,
                loggers.CreateLogger<NotificationSender>());
            var recorder = new NotifyingEventRecorder(
                new EventRecorder(client, "cd4ml-operator", "test", NullLogger<EventRecorder>.Instance), queue, TimeProvider.System);
            await sender.StartAsync(CancellationToken.None);
            return new Pipeline(client, ns, registry, sender, recorder, subject, logs);
        }

        public Task RecordAsync(EventType type, string reason, string message) =>
            recorder.RecordAsync(subject, type, reason, message);

        /// <summary>Sum of a counter over its labels, read from the registry's exposition text.</summary>
        public double Count(string metric)
        {
            using var stream = new MemoryStream();
            registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
            var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
            return text.Split('\n').Where(l => l.StartsWith(metric + "{") || l.StartsWith(metric + " "))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }

        public async ValueTask DisposeAsync()
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await sender.StopAsync(stop.Token);
            sender.Dispose();
            Client.Dispose();
        }
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");

        public void Dispose()
        {
        }
    }
}
