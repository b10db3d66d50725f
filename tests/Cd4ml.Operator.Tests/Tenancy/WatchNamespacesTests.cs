using Cd4ml.Api;
using Cd4ml.Api.Schema;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.LocalCluster;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Entities;
using Cd4ml.Testing;
using Cd4ml.Training.Datasets;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Tenancy;

/// <summary>An operator started with <c>--watch-namespaces</c> reconciles those namespaces and leaves every other alone.</summary>
public sealed class WatchNamespacesTests
{
    [Test]
    public async Task Operator_ReconcilesTheWatchedNamespaces_AndLeavesAnUnwatchedOneAlone()
    {
        var plane = await ControlPlane.SharedAsync();
        using var client = plane.CreateClient();
        await CrdInstaller.InstallAsync(client, ApiKinds.All.Select(CrdGenerator.Generate));
        var first = await plane.CreateNamespaceAsync("watched");
        var second = await plane.CreateNamespaceAsync("watched");
        var unwatched = await plane.CreateNamespaceAsync("unwatched");
        var runs = new ResourceClient<TrainingRun>(client);
        foreach (var ns in new[] { first, second, unwatched })
        {
            await runs.CreateAsync(Run(ns));
        }

        var app = OperatorHost.Build(new OperatorOptions
        {
            Kubeconfig = plane.KubeconfigPath,
            ListenUrl = $"http://127.0.0.1:{LoopbackPorts.Free()}",
            LeaderElection = false,
            WatchNamespaces = [first, second],
        });
        await app.StartAsync();
        try
        {
            foreach (var ns in new[] { first, second })
            {
                await ControlPlane.WaitUntilAsync(async () => (await runs.GetAsync(ns, "run"))?.Status?.Find(Conditions.Ready) is not null,
                    TimeSpan.FromSeconds(60), $"the run in watched namespace {ns} reconciled");
            }

            // Both watched runs have been reconciled; give the unwatched one the same time and more.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var left = await runs.GetAsync(unwatched, "run");
            Assert.That(left!.Status, Is.Null, "the operator never touched the unwatched namespace's run");
            var events = await client.CoreV1.ListNamespacedEventAsync(unwatched);
            Assert.That(events.Items, Is.Empty, "nor recorded events there");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [TestCase(null, null)]
    [TestCase("", null)]
    [TestCase(" team-a, team-b ,team-a,", new[] { "team-a", "team-b" })]
    public void ParseNamespaces_SplitsTrimsAndDeduplicates(string? text, string[]? expected)
    {
        Assert.That(OperatorOptions.ParseNamespaces(text), Is.EqualTo(expected));
    }

    private static TrainingRun Run(string ns) => new()
    {
        Metadata = new V1ObjectMeta { Name = "run", NamespaceProperty = ns },
        Spec = new TrainingRunSpec
        {
            ModelName = "sales",
            Dataset = new DatasetSpec
            {
                Uri = "s3://nowhere/sales.csv",
                LabelColumn = RetailDatasetGenerator.LabelColumn,
                Columns = RetailDatasetGenerator.Schema.Select(c => new ColumnSpec
                {
                    Name = c.Name, Type = (Api.V1Alpha1.ColumnType)(int)c.Type,
                }).ToList(),
            },
            Trainer = new TrainerSpec { Algorithm = Algorithm.LogisticRegression },
        },
    };
}
