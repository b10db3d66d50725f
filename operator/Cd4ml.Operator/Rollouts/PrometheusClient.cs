using System.Globalization;
using System.Text.Json;

namespace Cd4ml.Operator.Rollouts;

public enum QueryStatus
{
    /// <summary>The query returned one number (which may be NaN or ±Inf).</summary>
    Value,

    /// <summary>The query succeeded but returned no series.</summary>
    NoData,

    /// <summary>Prometheus could not be asked or refused the query.</summary>
    Error,
}

/// <summary>The outcome of one instant query.</summary>
public sealed record QueryResult(QueryStatus Status, double Value = double.NaN, string? Message = null)
{
    public static QueryResult Of(double value) => new(QueryStatus.Value, value);

    public static QueryResult NoData(string? message = null) => new(QueryStatus.NoData, Message: message);

    public static QueryResult Failure(string message) => new(QueryStatus.Error, Message: message);

    /// <summary>A usable number: a value that is not NaN.</summary>
    public bool HasNumber => Status == QueryStatus.Value && !double.IsNaN(Value);
}

/// <summary>One series of an instant vector: its labels and value.</summary>
public sealed record Sample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>The outcome of one instant query that may return many series; <see cref="Error"/> set when it could not run.</summary>
public sealed record VectorResult(IReadOnlyList<Sample> Samples, string? Error = null)
{
    public static VectorResult Failure(string message) => new([], message);
}

/// <summary>
/// Instant queries against the Prometheus HTTP API (<c>GET /api/v1/query</c>). Never throws for Prometheus trouble:
/// unreachable servers, HTTP errors and bad queries come back as <see cref="QueryStatus.Error"/> with a message.
/// </summary>
public sealed class PrometheusClient(HttpClient http)
{
    public async Task<QueryResult> QueryAsync(string address, string promQl, CancellationToken ct)
    {
        var uri = $"{address.TrimEnd('/')}/api/v1/query?query={Uri.EscapeDataString(promQl)}";
        try
        {
            using var response = await http.GetAsync(uri, ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return Parse((int)response.StatusCode, body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return QueryResult.Failure($"Prometheus at {address} unreachable: {e.Message}");
        }
    }

    /// <summary>Every series an instant query returns (e.g. one per feature); an empty list when there are none.</summary>
    public async Task<VectorResult> QueryVectorAsync(string address, string promQl, CancellationToken ct)
    {
        var uri = $"{address.TrimEnd('/')}/api/v1/query?query={Uri.EscapeDataString(promQl)}";
        try
        {
            using var response = await http.GetAsync(uri, ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return ParseVector((int)response.StatusCode, body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return VectorResult.Failure($"Prometheus at {address} unreachable: {e.Message}");
        }
    }

    /// <summary>
    /// Whether Prometheus accepts <paramref name="promQl"/>: it is evaluated at time 0, where there is no data to
    /// read, so only its syntax and types are checked (Prometheus 2.42 has no parse-only endpoint). Checked with no
    /// error: valid; checked with Prometheus' error: refused as bad data; not checked: Prometheus could not be asked
    /// or failed otherwise (ask again later).
    /// </summary>
    public async Task<(bool CheckedOk, string? Error)> CheckQueryAsync(string address, string promQl, CancellationToken ct)
    {
        var uri = $"{address.TrimEnd('/')}/api/v1/query?time=0&query={Uri.EscapeDataString(promQl)}";
        try
        {
            using var response = await http.GetAsync(uri, ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return root.TryGetProperty("errorType", out var type) && type.GetString() == "bad_data"
                ? (true, root.TryGetProperty("error", out var error) ? error.GetString() : "bad data")
                : (root.TryGetProperty("status", out var status) && status.GetString() == "success", null);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException
                                      or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return (false, null);
        }
    }

    /// <summary>Reads an API response: vector (exactly one series) or scalar; empty vector is no data.</summary>
    public static QueryResult Parse(int httpStatus, string body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return QueryResult.Failure($"Prometheus answered HTTP {httpStatus} with a body that is not JSON.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out var status))
            {
                return QueryResult.Failure($"Prometheus answered HTTP {httpStatus} without a status.");
            }

            if (status.GetString() != "success")
            {
                var error = root.TryGetProperty("error", out var e) ? e.GetString() : "unknown error";
                return QueryResult.Failure($"Prometheus query failed (HTTP {httpStatus}): {error}");
            }

            var data = root.GetProperty("data");
            var type = data.GetProperty("resultType").GetString();
            var result = data.GetProperty("result");
            switch (type)
            {
                case "scalar":
                    return QueryResult.Of(ParseSample(result));
                case "vector" when result.GetArrayLength() == 0:
                    return QueryResult.NoData("the query returned no series");
                case "vector" when result.GetArrayLength() == 1:
                    return QueryResult.Of(ParseSample(result[0].GetProperty("value")));
                case "vector":
                    return QueryResult.Failure(
                        $"the query returned {result.GetArrayLength()} series; aggregate it to one (e.g. sum(...))");
                default:
                    return QueryResult.Failure($"the query returned a {type}, not a number");
            }
        }
    }

    /// <summary>Reads an API response whose result is a vector of any length.</summary>
    public static VectorResult ParseVector(int httpStatus, string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out var status))
            {
                return VectorResult.Failure($"Prometheus answered HTTP {httpStatus} without a status.");
            }

            if (status.GetString() != "success")
            {
                var error = root.TryGetProperty("error", out var e) ? e.GetString() : "unknown error";
                return VectorResult.Failure($"Prometheus query failed (HTTP {httpStatus}): {error}");
            }

            var data = root.GetProperty("data");
            if (data.GetProperty("resultType").GetString() != "vector")
            {
                return VectorResult.Failure($"the query returned a {data.GetProperty("resultType").GetString()}, not a vector");
            }

            return new VectorResult([.. data.GetProperty("result").EnumerateArray().Select(series => new Sample(
                series.GetProperty("metric").EnumerateObject().ToDictionary(label => label.Name, label => label.Value.GetString() ?? ""),
                ParseSample(series.GetProperty("value"))))]);
        }
        catch (JsonException)
        {
            return VectorResult.Failure($"Prometheus answered HTTP {httpStatus} with a body that is not JSON.");
        }
    }

    private static double ParseSample(JsonElement pair) =>
        pair[1].GetString() switch
        {
            "NaN" => double.NaN,
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            var text => double.Parse(text!, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
}
