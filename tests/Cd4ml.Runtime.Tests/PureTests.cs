using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Events;
using Cd4ml.Runtime.TestHost;

namespace Cd4ml.Runtime.Tests;

public sealed class PredicateTests
{
    [Test]
    public void GenerationOrMetadataChanged_IgnoresStatusOnlyUpdates()
    {
        var old = Widget.New("ns", "w");
        old.Metadata.Generation = 1;
        var statusOnly = Widget.New("ns", "w");
        statusOnly.Metadata.Generation = 1;
        statusOnly.EnsureStatus().Phase = "Ready";
        var specChange = Widget.New("ns", "w");
        specChange.Metadata.Generation = 2;
        var annotated = Widget.New("ns", "w");
        annotated.Metadata.Generation = 1;
        annotated.Metadata.Annotations = new Dictionary<string, string> { ["a"] = "b" };
        var deleting = Widget.New("ns", "w");
        deleting.Metadata.Generation = 1;
        deleting.Metadata.DeletionTimestamp = DateTime.UtcNow;

        Assert.Multiple(() =>
        {
            Assert.That(Predicates.GenerationOrMetadataChanged(old, statusOnly), Is.False);
            Assert.That(Predicates.GenerationOrMetadataChanged(old, specChange), Is.True);
            Assert.That(Predicates.GenerationOrMetadataChanged(old, annotated), Is.True);
            Assert.That(Predicates.GenerationOrMetadataChanged(old, deleting), Is.True);
        });
    }
}

public sealed class EventMessageSanitizerTests
{
    [TestCase("login failed: password=hunter2 for bob", "login failed: password=*** for bob")]
    [TestCase("AWS_SECRET_ACCESS_KEY: abc123", "AWS_SECRET_ACCESS_KEY: ***")]
    [TestCase("token=\"a b c\", retry", "token=***, retry")]
    [TestCase("model accuracy=0.93", "model accuracy=0.93")]
    public void Sanitize_MasksCredentialValues(string message, string expected) =>
        Assert.That(EventMessageSanitizer.Sanitize(message), Is.EqualTo(expected));
}

public sealed class EventNameTests
{
    [Test]
    public void ShortName_KeepsTheWholeName_AndAddsARandomSuffix()
    {
        var first = EventRecorder.EventName("sales-forecast");
        var second = EventRecorder.EventName("sales-forecast");

        Assert.That(first, Does.Match("^sales-forecast\\.[0-9a-f]{16}$"));
        Assert.That(second, Is.Not.EqualTo(first));
    }

    [TestCase(253)]
    [TestCase(240)]
    [TestCase(237)]
    public void LongNames_AreCutSoTheSuffixFits_AndStayDistinct(int length)
    {
        var name = new string('a', length - 19) + "--" + new string('b', 17);

        var names = Enumerable.Range(0, 50).Select(_ => EventRecorder.EventName(name)).ToList();

        Assert.That(names, Is.Unique);
        Assert.That(names, Has.All.Length.LessThanOrEqualTo(253));
        Assert.That(names, Has.All.Match("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
            "a valid DNS subdomain: no '-' or '.' right before the suffix's dot");
    }
}
