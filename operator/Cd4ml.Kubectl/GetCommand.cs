using System.CommandLine;
using System.Net;
using System.Threading.Channels;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Kubectl.Views;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Client;
using k8s;
using k8s.Models;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cd4ml.Kubectl;

/// <summary>`get tr|mv|mld [NAME] [--watch]`: one tree per object; --watch redraws on every change until Ctrl-C.</summary>
internal static class GetCommand
{
    /// <summary>Changes arriving within this time are drawn once.</summary>
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(200);

    /// <summary>Pause before re-opening a watch the server ended or broke.</summary>
    private static readonly TimeSpan Rewatch = TimeSpan.FromSeconds(1);

    public static Command Create(ConnectionOptions options, Func<PluginConsole> console)
    {
        var kind = new Argument<string>("kind") { Description = ResourceKinds.Accepted };
        var name = new Argument<string?>("name") { Description = "Object name (default: all in the namespace)", Arity = ArgumentArity.ZeroOrOne };
        var watch = new Option<bool>("--watch", "-w") { Description = "Redraw on every change until Ctrl-C" };
        var command = new Command("get", "Show TrainingRuns (attempts → ModelVersions), ModelVersions or Deployments (tracks, steps, analysis) as trees")
        {
            kind, name, watch,
        };
        command.SetAction((parse, ct) =>
        {
            var io = console();
            return KubectlCommand.RunAsync(parse, options, io, async client =>
            {
                var resourceKind = ResourceKinds.Parse(parse.GetValue(kind)!);
                var objectName = parse.GetValue(name);
                Func<CancellationToken, Task<IRenderable>> snapshot = token => SnapshotAsync(client, resourceKind, objectName, token);
                if (!parse.GetValue(watch))
                {
                    io.Console.Write(await snapshot(ct));
                    return 0;
                }

                await WatchAsync(client, io, resourceKind, snapshot, ct);
                return 0;
            });
        });
        return command;
    }

    public static async Task<IRenderable> SnapshotAsync(PluginClient client, ResourceKind kind, string? name, CancellationToken ct)
    {
        var trees = new List<IRenderable>();
        switch (kind)
        {
            case ResourceKind.TrainingRun:
                var runs = name is null ? await client.ListAsync<TrainingRun>(ct) : [await client.GetAsync<TrainingRun>(name, ct)];
                var versions = runs.Count == 0 ? [] : await client.ListAsync<ModelVersion>(ct);
                trees.AddRange(runs.Select(r => TrainingRunTree.Render(r, versions)));
                break;
            case ResourceKind.ModelVersion:
                var all = name is null ? await client.ListAsync<ModelVersion>(ct) : [await client.GetAsync<ModelVersion>(name, ct)];
                trees.AddRange(all.OrderBy(v => v.Spec.ModelName, StringComparer.Ordinal).ThenBy(v => v.Spec.Version)
                    .Select(ModelVersionTree.Render));
                break;
            default:
                var deployments = name is null ? await client.ListAsync<ModelDeployment>(ct) : [await client.GetAsync<ModelDeployment>(name, ct)];
                foreach (var deployment in deployments)
                {
                    var stable = await client.TrackPodsAsync(deployment, ServingWorkloads.Stable, ct);
                    var canary = deployment.Status?.CanaryVersion is null ? null : await client.TrackPodsAsync(deployment, ServingWorkloads.Canary, ct);
                    trees.Add(DeploymentTree.Render(deployment, stable, canary));
                }

                break;
        }

        if (trees.Count == 0)
        {
            return new Text($"No {kind.Resource()} found in namespace {client.Namespace}.\n");
        }

        // A blank line between trees, as between kubectl describe blocks.
        return new Rows(trees.SelectMany((tree, i) => i == 0 ? [tree] : new[] { new Text(""), tree }));
    }

    /// <summary>
    /// Draws, then redraws whenever a watched kind changes: in place on a terminal; appended (only when the text
    /// changed) when piped, like kubectl get --watch.
    /// </summary>
    private static async Task WatchAsync(PluginClient client, PluginConsole io, ResourceKind kind,
        Func<CancellationToken, Task<IRenderable>> snapshot, CancellationToken ct)
    {
        var changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watches = WatchedKinds(kind).Select(watch => watch(client, changes.Writer, stop.Token)).ToList();
        try
        {
            if (io.Interactive)
            {
                await io.Console.Live(await snapshot(ct)).AutoClear(false).StartAsync(async live =>
                {
                    while (await NextChangeAsync(changes.Reader, ct))
                    {
                        live.UpdateTarget(await snapshot(ct));
                        live.Refresh();
                    }
                });
            }
            else
            {
                var last = "";
                do
                {
                    var current = await snapshot(ct);
                    var text = PlainText(current, io.Console.Profile.Width);
                    if (text != last)
                    {
                        if (last.Length > 0)
                        {
                            io.Console.WriteLine();
                        }

                        io.Console.Write(current);
                        last = text;
                    }
                }
                while (await NextChangeAsync(changes.Reader, ct));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl-C ends a watch normally.
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(watches);
        }
    }

    private static async Task<bool> NextChangeAsync(ChannelReader<bool> changes, CancellationToken ct)
    {
        try
        {
            await changes.ReadAsync(ct);
            await Task.Delay(Coalesce, ct);
            changes.TryRead(out _);
            return true;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return false;
        }
        catch (ChannelClosedException e) when (e.InnerException is PluginException reason)
        {
            throw reason;
        }
    }

    private static string PlainText(IRenderable renderable, int width)
    {
        var writer = new StringWriter();
        PluginConsole.Plain(writer, TextWriter.Null, width).Console.Write(renderable);
        return writer.ToString();
    }

    private delegate Task Watch(PluginClient client, ChannelWriter<bool> changes, CancellationToken ct);

    /// <summary>The kinds whose changes alter the tree: a run's tree shows its ModelVersions too.</summary>
    private static IEnumerable<Watch> WatchedKinds(ResourceKind kind) => kind switch
    {
        ResourceKind.TrainingRun => [WatchKindAsync<TrainingRun>, WatchKindAsync<ModelVersion>],
        ResourceKind.ModelVersion => [WatchKindAsync<ModelVersion>],
        _ => [WatchKindAsync<ModelDeployment>],
    };

    /// <summary>Signals every add, change and delete of <typeparamref name="T"/> in the namespace until cancelled.</summary>
    private static async Task WatchKindAsync<T>(PluginClient client, ChannelWriter<bool> changes, CancellationToken ct)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var resource = client.Resource<T>();
        string? resourceVersion = null;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    var list = await resource.ListAsync(client.Namespace, 1, null, ct);
                    resourceVersion = list.Metadata?.ResourceVersion ?? "";
                    changes.TryWrite(true);
                }

                await foreach (var (type, entity) in resource.WatchAsync(client.Namespace, resourceVersion, 300, ct))
                {
                    resourceVersion = entity.Metadata.ResourceVersion;
                    if (type != WatchEventType.Bookmark)
                    {
                        changes.TryWrite(true);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (ApiErrors.IsGone(e))
            {
                resourceVersion = null;
            }
            catch (Exception e) when (ApiErrors.StatusOf(e) is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized
                                      or HttpStatusCode.NotFound)
            {
                // Retrying cannot help: end the watch with the reason.
                changes.TryComplete(new PluginException(ApiFailures.Describe(e, "watch", resource.Type.ToString(), null,
                    client.Namespace, client.Connection.Server)!));
                return;
            }
            catch (Exception)
            {
                // A broken connection or a server closing the stream: watch again shortly.
                await Task.Delay(Rewatch, ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}
