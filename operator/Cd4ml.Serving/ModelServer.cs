using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Cd4ml.Artifacts;
using Cd4ml.Training;
using Cd4ml.Training.Scoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Cd4ml.Serving;

/// <summary>
/// One model server: listens at once, loads and checks the model in the background, and answers /predict, /healthz,
/// /readyz, /metrics (and /admin/fault when enabled). <see cref="ServeCommand"/> runs one until SIGTERM; tests start
/// several in one process.
/// </summary>
public sealed class ModelServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The log category of the sampled access log.</summary>
    public const string AccessLogCategory = "Cd4ml.Serving.AccessLog";

    /// <summary>The response header holding the (first) prediction id.</summary>
    public const string PredictionIdHeader = "X-Prediction-Id";

    private const string AspNetCoreCategory = "Microsoft.AspNetCore";

    private readonly WebApplication app;
    private readonly ServeSettings settings;
    private readonly ServingMetrics metrics;
    private readonly PredictResponse responses;
    private readonly PredictionIds ids = new();
    private readonly PredictionLog log;
    private readonly ILogger logger;
    private readonly Lock statusLock = new();
    private readonly CancellationTokenSource loading = new();
    private Task loader = Task.CompletedTask;
    private volatile ServingStatus status = ServingStatus.Starting;
    private volatile FaultSettings fault;
    private volatile DriftMonitor? drift;

    private ModelServer(WebApplication app, ServeSettings settings)
    {
        this.app = app;
        this.settings = settings;
        metrics = new ServingMetrics(settings.ModelName, settings.ModelVersion, settings.Track, settings.Deployment);
        logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ModelServer>();
        fault = settings.Fault;
        responses = new PredictResponse(settings.ModelName, settings.ModelVersion, settings.Track, ids);
        log = new PredictionLog(settings, metrics, ids, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Cd4ml.Serving.PredictionLog"),
            TimeProvider.System);
    }

    /// <summary>The address actually listened on (useful with port 0), e.g. http://127.0.0.1:8080.</summary>
    public Uri Address { get; private set; } = null!;

    public ServingStatus Status => status;

    /// <summary>The fault injection in force; <c>POST /admin/fault</c> changes it too.</summary>
    public FaultSettings Fault
    {
        get => fault;
        set => fault = value;
    }

    /// <summary>Binds the port and returns; the model loads in the background (watch <see cref="Status"/> or /readyz).</summary>
    public static async Task<ModelServer> StartAsync(ServeSettings settings, Action<ILoggingBuilder>? configureLogging = null,
        CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(settings.ListenHost, settings.Port));
        builder.Logging.ClearProviders();
        ConfigureLogLevels(builder.Logging, builder.Configuration, settings.LogLevel);
        if (configureLogging is null)
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                console.UseUtcTimestamp = true;
            });
        }
        else
        {
            configureLogging(builder.Logging);
        }

        // Kubernetes waits terminationGracePeriodSeconds (30 s by default) before SIGKILL.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(25));
        builder.Services.Configure<ConsoleLifetimeOptions>(lifetime => lifetime.SuppressStatusMessages = true);

        var server = new ModelServer(builder.Build(), settings);
        server.UseAccessLog();
        server.MapEndpoints();
        await server.app.StartAsync(cancellationToken);
        server.Address = new Uri(server.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        server.logger.LogInformation("Serving {Model} {Version} ({Track}) on {Address}", settings.ModelName, settings.ModelVersion, settings.Track, server.Address);
        server.app.Lifetime.ApplicationStopping.Register(server.OnStopping);
        server.StartLoading();
        return server;
    }

    /// <summary>
    /// Quiet by default: ASP.NET Core's per-request categories (hosting diagnostics, routing, results) only from Warning,
    /// unless the configuration names a level for them (<c>Logging__LogLevel__Microsoft.AspNetCore</c>) or the server
    /// runs at Debug or below. <paramref name="level"/> (<c>CD4ML_LOG_LEVEL</c>) wins over
    /// <c>Logging__LogLevel__Default</c>; without either it is Information.
    /// </summary>
    private static void ConfigureLogLevels(ILoggingBuilder logging, IConfiguration configuration, LogLevel? level)
    {
        if (level is { } minimum)
        {
            logging.SetMinimumLevel(minimum);
            logging.AddFilter((string?)null, minimum);
        }

        var effective = level ?? (Enum.TryParse<LogLevel>(configuration["Logging:LogLevel:Default"], true, out var configured) ? configured : LogLevel.Information);
        if (configuration[$"Logging:LogLevel:{AspNetCoreCategory}"] is null && effective > LogLevel.Debug)
        {
            logging.AddFilter(AspNetCoreCategory, LogLevel.Warning);
        }
    }

    /// <summary>With <c>CD4ML_ACCESS_LOG_SAMPLE</c> above 0: that share of requests gets one line each (method, path, status, milliseconds).</summary>
    private void UseAccessLog()
    {
        var sample = settings.AccessLogSample;
        if (sample <= 0)
        {
            return;
        }

        var accessLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(AccessLogCategory);
        app.Use(async (http, next) =>
        {
            if (Random.Shared.NextDouble() >= sample)
            {
                await next(http);
                return;
            }

            var started = Stopwatch.GetTimestamp();
            await next(http);
            accessLog.LogInformation("{Method} {Path} {Status} {Milliseconds:0.###} ms", http.Request.Method, http.Request.Path.Value,
                http.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        });
    }

    /// <summary>Completes when the host stops: SIGTERM, <see cref="StopAsync"/>, or <paramref name="cancellationToken"/> (which stops it gracefully).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops gracefully: readiness turns false, in-flight requests finish.</summary>
    public Task StopAsync() => app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await loading.CancelAsync();
        await loader.ContinueWith(_ => { }, TaskScheduler.Default);
        // After the listener closed and in-flight requests finished: nothing more can be logged.
        await log.DisposeAsync();
        drift?.Dispose();
        await app.DisposeAsync();
        loading.Dispose();
    }

    private void StartLoading()
    {
        var client = settings.S3.CreateClient();
        var modelLoader = new ModelLoader(new ArtifactStore(client), settings, Report, logger);
        loader = Task.Run(async () =>
        {
            try
            {
                await modelLoader.RunAsync(loading.Token);
            }
            catch (OperationCanceledException) when (loading.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                logger.LogError(e, "Loading the model failed");
                Report(new ServingStatus(ServingState.Failed, $"loading the model failed: {e.GetType().Name}: {e.Message}", []));
            }
            finally
            {
                client.Dispose();
            }
        });
    }

    private void Report(ServingStatus next)
    {
        lock (statusLock)
        {
            if (status.State == ServingState.ShuttingDown)
            {
                return;
            }

            status = next;
            metrics.SetReady(next.IsReady);
            if (next is { IsReady: true, Model: { } model, Profile: { } profile } && drift is null)
            {
                StartDrift(model, profile);
            }
        }
    }

    /// <summary>Measures drift against <paramref name="profile"/> from now on; an inconsistent profile leaves drift off (one warning).</summary>
    private void StartDrift(ScoringModel model, TrainingProfile profile)
    {
        try
        {
            var monitor = new DriftMonitor(profile, model.InputColumns, settings.DriftWindow, TimeProvider.System, out var skipped);
            foreach (var reason in skipped)
            {
                logger.LogWarning("Drift: {Profile} feature not compared: {Reason}", TrainingProfile.FileName, reason);
            }

            metrics.ExportDrift(monitor, settings.DriftMinimumRows);
            drift = monitor;
            logger.LogInformation("Drift: comparing {Count} features and the predictions with {Profile} over the last {Window}",
                monitor.Features.Count, TrainingProfile.FileName, settings.DriftWindow);
        }
        catch (InvalidDataException e)
        {
            logger.LogWarning("{Profile} is inconsistent, drift metrics off: {Error}", TrainingProfile.FileName, e.Message);
        }
    }

    private void OnStopping()
    {
        lock (statusLock)
        {
            // A verified model keeps answering while traffic drains away; an unverified one never starts to.
            status = status with
            {
                State = ServingState.ShuttingDown, Reason = "shutting down", Model = status.IsReady ? status.Model : null,
            };
            metrics.SetReady(false);
        }

        loading.Cancel();
        logger.LogInformation("Shutting down: unready now, serving for {Delay} more, then finishing in-flight requests",
            settings.ShutdownDelay);
        // ApplicationStopping callbacks run before Kestrel stops listening: this keeps the listener open.
        Thread.Sleep(settings.ShutdownDelay);
    }

    private void MapEndpoints()
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () =>
        {
            var current = status;
            return Results.Json(new
            {
                ready = current.IsReady,
                state = current.State.ToString(),
                reason = current.Reason,
                model = settings.ModelName,
                version = settings.ModelVersion,
                track = settings.Track,
                sha256 = settings.ModelSha256,
                warnings = current.Warnings,
            }, Json, statusCode: current.IsReady ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapPost("/predict", PredictAsync);
        app.MapPost("/feedback", async http => await (await FeedbackAsync(http)).ExecuteAsync(http));
        if (settings.AdminEnabled)
        {
            app.MapGet("/admin/fault", () => Results.Json(FaultBody(fault), Json));
            app.MapPost("/admin/fault", async http => await (await SetFaultAsync(http)).ExecuteAsync(http));
        }
    }

    private async Task PredictAsync(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        var answer = await AnswerAsync(http);
        metrics.Observe(answer.Outcome, Stopwatch.GetElapsedTime(started));
        if (http.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var response = http.Response;
        response.StatusCode = answer.StatusCode;
        response.ContentType = "application/json; charset=utf-8";
        if (answer.Predictions is { } predictions)
        {
            response.Headers[PredictionIdHeader] = ids.Format(answer.FirstId);
            responses.WritePredictions(response.BodyWriter, predictions, answer.FirstId);
        }
        else
        {
            PredictResponse.WriteError(response.BodyWriter, answer.Error!, answer.Field, answer.Row);
        }

        await response.BodyWriter.FlushAsync(http.RequestAborted);
    }

    private async Task<PredictAnswer> AnswerAsync(HttpContext http)
    {
        var current = status;
        if (current.Model is not { } model || !current.IsReady && current.State != ServingState.ShuttingDown)
        {
            return PredictAnswer.Failure(ServingMetrics.ServerError, StatusCodes.Status503ServiceUnavailable, $"the model is not ready: {current.Reason}");
        }

        try
        {
            var injected = fault;
            if (injected.Latency > TimeSpan.Zero)
            {
                await Task.Delay(injected.Latency, http.RequestAborted);
            }

            if (injected.ErrorRate > 0 && Random.Shared.NextDouble() < injected.ErrorRate)
            {
                return PredictAnswer.Failure(ServingMetrics.ServerError, StatusCodes.Status500InternalServerError, "injected fault");
            }

            var body = http.Request.BodyReader;
            var read = await body.ReadAsync(http.RequestAborted);
            while (!read.IsCompleted)
            {
                body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                read = await body.ReadAsync(http.RequestAborted);
            }

            try
            {
                var input = PredictRequest.Read(read.Buffer, model);
                var predictions = model.Score(input);
                drift?.Observe(input, predictions);
                var firstId = ids.Reserve(predictions.Length);
                if (log.Samples)
                {
                    log.Log(model, read.Buffer.ToArray(), predictions, firstId);
                }

                return new PredictAnswer(ServingMetrics.Success, StatusCodes.Status200OK, predictions, firstId);
            }
            finally
            {
                body.AdvanceTo(read.Buffer.End);
            }
        }
        catch (PredictRequestException e)
        {
            logger.LogDebug("Refused a prediction request: {Error}", e.Message);
            return PredictAnswer.Failure(ServingMetrics.ClientError, StatusCodes.Status400BadRequest, e.Message, e.Field, e.Row);
        }
        catch (ScoringInputException e)
        {
            logger.LogDebug("Refused a prediction request: {Error}", e.Message);
            return PredictAnswer.Failure(ServingMetrics.ClientError, StatusCodes.Status400BadRequest, e.Message, e.Field, e.Row);
        }
        catch (BadHttpRequestException e)
        {
            // The body ended early or broke the HTTP framing: usually a client that went away mid-request.
            logger.LogDebug("Could not read a prediction request: {Error}", e.Message);
            return PredictAnswer.Failure(ServingMetrics.ClientError, e.StatusCode, $"the request body could not be read: {e.Message}");
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return PredictAnswer.Failure(ServingMetrics.ClientError, StatusCodes.Status499ClientClosedRequest, "the client closed the request");
        }
        catch (Exception e)
        {
            // Not the client's doing: a defect, so the stack trace belongs in the log.
            logger.LogError(e, "Prediction failed: {Error}", e.Message);
            return PredictAnswer.Failure(ServingMetrics.ServerError, StatusCodes.Status500InternalServerError, $"prediction failed: {e.GetType().Name}");
        }
    }

    /// <summary>
    /// <c>POST /feedback</c>: <c>{"predictionId": "…", "label": …}</c> or <c>{"instances": [{…}, …]}</c>. Every row is stored
    /// (with <c>CD4ML_LOG_URI</c>); rows whose id this server logged are joined to the prediction and update live quality.
    /// </summary>
    private async Task<IResult> FeedbackAsync(HttpContext http)
    {
        if (status.Model is not { } model)
        {
            return Error(StatusCodes.Status503ServiceUnavailable, $"the model is not ready: {status.Reason}");
        }

        var regression = model.Manifest.Task == MlTask.Regression;
        IReadOnlyList<(string PredictionId, string Label)> rows;
        try
        {
            using var body = await ReadJsonAsync(http);
            rows = FeedbackRequest.Read(body.RootElement, regression);
        }
        catch (PredictRequestException e)
        {
            logger.LogDebug("Refused feedback: {Error}", e.Message);
            return Error(StatusCodes.Status400BadRequest, e.Message, e.Field, e.Row);
        }

        log.Store(rows);
        var joined = new List<(Prediction, string)>();
        foreach (var (id, label) in rows)
        {
            if (ids.TryParse(id, out var counter) && log.Quality.TryFind(counter, out var prediction))
            {
                joined.Add((prediction, label));
            }
        }

        metrics.Feedback(ServingMetrics.FeedbackMatched).Inc(joined.Count);
        metrics.Feedback(ServingMetrics.FeedbackUnknown).Inc(rows.Count - joined.Count);
        if (joined.Count > 0)
        {
            var (primary, secondary) = log.Quality.Add(regression, joined);
            if (regression)
            {
                metrics.SetLiveRegression(primary, secondary);
            }
            else
            {
                metrics.SetLiveAccuracy(primary);
            }
        }

        return Results.Json(new { accepted = rows.Count, matched = joined.Count, unknown = rows.Count - joined.Count }, Json);
    }

    private async Task<IResult> SetFaultAsync(HttpContext http)
    {
        try
        {
            using var body = await ReadJsonAsync(http);
            var next = fault;
            if (body.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new PredictRequestException("the body must be a JSON object such as {\"errorRate\": 0.5, \"latency\": \"0ms\"}.");
            }

            if (body.RootElement.TryGetProperty("errorRate", out var rate))
            {
                next = next with
                {
                    ErrorRate = rate.ValueKind == JsonValueKind.Number && rate.GetDouble() is >= 0 and <= 1 and var value
                        ? value
                        : throw new PredictRequestException("field 'errorRate' must be a number between 0 and 1.", "errorRate"),
                };
            }

            if (body.RootElement.TryGetProperty("latency", out var latency))
            {
                next = next with
                {
                    Latency = latency.ValueKind == JsonValueKind.String && FaultSettings.TryParseDuration(latency.GetString()!, out var duration)
                        ? duration
                        : throw new PredictRequestException("field 'latency' must be a duration such as \"200ms\" or \"1s\".", "latency"),
                };
            }

            fault = next;
            logger.LogWarning("Fault injection set: error rate {ErrorRate}, latency {Latency}", next.ErrorRate, next.Latency);
            return Results.Json(FaultBody(next), Json);
        }
        catch (PredictRequestException e)
        {
            return Error(StatusCodes.Status400BadRequest, e.Message, e.Field);
        }
    }

    private static async Task<JsonDocument> ReadJsonAsync(HttpContext http)
    {
        try
        {
            return await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new PredictRequestException($"the request body is not valid JSON: {e.Message}");
        }
    }

    private static object FaultBody(FaultSettings value) => new { errorRate = value.ErrorRate, latency = FaultSettings.FormatDuration(value.Latency) };

    /// <summary>What a prediction request gets: predictions, or an error message naming the field and row when known.</summary>
    private sealed record PredictAnswer(string Outcome, int StatusCode, Prediction[]? Predictions = null, long FirstId = 0, string? Error = null,
        string? Field = null, int? Row = null)
    {
        public static PredictAnswer Failure(string outcome, int statusCode, string error, string? field = null, int? row = null) =>
            new(outcome, statusCode, null, 0, error, field, row);
    }

    private static IResult Error(int statusCode, string message, string? field = null, int? row = null) =>
        Results.Json(new { error = message, field, row }, Json, statusCode: statusCode);
}
