using Cd4ml.Artifacts;
using Cd4ml.Training;
using Cd4ml.Training.Scoring;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Serving;

/// <summary>
/// Fetches the model named by the settings, verifies it and runs the skew check. Reports progress through
/// <paramref name="report"/>: S3 errors are retried with backoff (the pod stays Loading); a digest mismatch, an
/// unreadable model or skew beyond the tolerance are final (Failed), since retrying would read the same bytes.
/// </summary>
internal sealed class ModelLoader(ArtifactStore store, ServeSettings settings, Action<ServingStatus> report, ILogger logger)
{
    private static readonly TimeSpan MaximumBackoff = TimeSpan.FromSeconds(30);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                report(await LoadAsync(cancellationToken));
                return;
            }
            catch (ArtifactStoreException e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Loading the model failed (attempt {Attempt}), retrying in {Backoff}: {Message}", attempt, backoff, e.Message);
                report(new ServingStatus(ServingState.Loading, $"attempt {attempt} failed, retrying in {backoff.TotalSeconds:0}s: {e.Message}", []));
                await Task.Delay(backoff, cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaximumBackoff.Ticks));
            }
        }
    }

    private async Task<ServingStatus> LoadAsync(CancellationToken cancellationToken)
    {
        var prefix = settings.ArtifactPrefix;
        var modelBytes = await store.GetBytesAsync(settings.ModelUri, cancellationToken);
        var actual = ContentDigest.Sha256Hex(modelBytes);
        if (actual != settings.ModelSha256)
        {
            return Failed($"{settings.ModelUri} has sha256 {actual}, but the model version records {settings.ModelSha256}");
        }

        var manifestBytes = await store.GetBytesAsync(prefix.Combine(ModelManifest.FileName), cancellationToken);
        ScoringModel model;
        try
        {
            model = new ScoringModel(ModelArtifact.FromBytes(manifestBytes, modelBytes));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Failed($"the model cannot be loaded: {e.Message}");
        }

        logger.LogInformation("Loaded {Uri} (sha256 {Sha256}, {Task}, {Algorithm})", settings.ModelUri, actual, model.Manifest.Task, model.Manifest.Algorithm);
        var profile = settings.DriftWindow > TimeSpan.Zero ? await LoadProfileAsync(model.Manifest, cancellationToken) : null;
        var metricsBytes = await TryGetAsync(prefix.Combine(ModelManifest.MetricsFileName), cancellationToken);
        var holdoutBytes = await TryGetAsync(prefix.Combine(ModelManifest.HoldoutFileName), cancellationToken);
        if (metricsBytes is null || holdoutBytes is null)
        {
            // Externally registered models may come without them; serving is allowed, but nobody checked for skew.
            return Ready(model, profile, [$"no {(metricsBytes is null ? ModelManifest.MetricsFileName : ModelManifest.HoldoutFileName)} next to the model: training/serving skew check skipped"]);
        }

        var warnings = new List<string>();
        if (model.Manifest.Artifacts.TryGetValue(ModelManifest.HoldoutFileName, out var entry) && entry.Sha256 != ContentDigest.Sha256Hex(holdoutBytes))
        {
            warnings.Add($"{ModelManifest.HoldoutFileName} differs from the one the manifest records (sha256 {entry.Sha256})");
        }

        MetricGroup recorded;
        HoldoutEvaluation observed;
        try
        {
            recorded = MetricsDocument.Parse(metricsBytes).Holdout;
            observed = HoldoutEvaluator.Evaluate(model, holdoutBytes);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Failed($"training/serving skew check could not run: {e.Message}");
        }

        var violations = SkewCheck.Compare(recorded, observed.Rows, observed.Metrics, settings.SkewTolerance);
        if (violations.Count > 0)
        {
            return Failed($"training/serving skew beyond tolerance {settings.SkewTolerance:G3} on {ModelManifest.HoldoutFileName}: {string.Join("; ", violations)}", warnings);
        }

        logger.LogInformation("Skew check passed on {Rows} holdout rows", observed.Rows);
        return Ready(model, profile, warnings);
    }

    /// <summary>
    /// profile.json from the model's prefix, or null (drift off, one line saying why): absent (older or external models),
    /// another digest than the manifest records, or unreadable. Never a reason not to serve.
    /// </summary>
    private async Task<TrainingProfile?> LoadProfileAsync(ModelManifest manifest, CancellationToken cancellationToken)
    {
        var location = settings.ArtifactPrefix.Combine(TrainingProfile.FileName);
        var bytes = await TryGetAsync(location, cancellationToken);
        if (bytes is null)
        {
            logger.LogInformation("No {Profile} next to the model: drift metrics off", TrainingProfile.FileName);
            return null;
        }

        if (manifest.Artifacts.TryGetValue(TrainingProfile.FileName, out var entry) && entry.Sha256 != ContentDigest.Sha256Hex(bytes))
        {
            logger.LogWarning("{Location} differs from the one the manifest records (sha256 {Sha256}): drift metrics off", location, entry.Sha256);
            return null;
        }

        try
        {
            return TrainingProfile.Parse(bytes);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException)
        {
            logger.LogWarning("{Location} cannot be read, drift metrics off: {Error}", location, e.Message);
            return null;
        }
    }

    private async Task<byte[]?> TryGetAsync(S3Location location, CancellationToken cancellationToken)
    {
        try
        {
            return await store.GetBytesAsync(location, cancellationToken);
        }
        catch (ArtifactNotFoundException)
        {
            return null;
        }
    }

    private ServingStatus Ready(ScoringModel model, TrainingProfile? profile, IReadOnlyList<string> warnings)
    {
        foreach (var warning in warnings)
        {
            logger.LogWarning("{Warning}", warning);
        }

        return new ServingStatus(ServingState.Ready, "ready", warnings, model, profile);
    }

    private ServingStatus Failed(string reason, IReadOnlyList<string>? warnings = null)
    {
        logger.LogError("Not serving {Uri}: {Reason}", settings.ModelUri, reason);
        return new ServingStatus(ServingState.Failed, reason, warnings ?? []);
    }
}
