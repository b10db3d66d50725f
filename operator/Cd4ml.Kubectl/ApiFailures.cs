using System.Net;
using System.Net.Http;
using System.Text.Json;
using Cd4ml.Runtime.Client;
using k8s.Autorest;

namespace Cd4ml.Kubectl;

/// <summary>Turns API failures into the one line a user reads: RBAC refusals, missing objects, an unreachable server.</summary>
public static class ApiFailures
{
    /// <summary>
    /// The message for a failed <paramref name="verb"/> on <paramref name="resource"/> (named or, when
    /// <paramref name="name"/> is null, listed) in <paramref name="namespace"/>; null when the failure is not an API answer.
    /// </summary>
    public static string? Describe(Exception exception, string verb, string resource, string? name, string @namespace,
        string server)
    {
        var target = name is null ? resource : $"{resource} \"{name}\"";
        return ApiErrors.StatusOf(exception) switch
        {
            HttpStatusCode.Forbidden =>
                $"forbidden: you may not {verb} {target} in namespace \"{@namespace}\" (RBAC){Detail(exception)}",
            HttpStatusCode.Unauthorized =>
                $"unauthorized: the API server at {server} did not accept your kubeconfig's credentials",
            HttpStatusCode.NotFound when name is null =>
                $"the server does not serve {resource}: are the cd4ml CRDs installed (kubectl apply -k crds)?",
            HttpStatusCode.NotFound => $"{target} not found in namespace \"{@namespace}\"",
            { } code => $"{verb} {target} in namespace \"{@namespace}\" failed: {(int)code} {code}{Detail(exception)}",
            null when exception is HttpRequestException => $"cannot reach the API server at {server}: {exception.Message}",
            _ => null,
        };
    }

    /// <summary>The server's own message (it names the user, verb and resource), when it sent one.</summary>
    private static string Detail(Exception exception)
    {
        var content = (exception as HttpOperationException)?.Response?.Content;
        if (string.IsNullOrEmpty(content))
        {
            return "";
        }

        try
        {
            using var status = JsonDocument.Parse(content);
            return status.RootElement.TryGetProperty("message", out var message) && message.GetString() is { Length: > 0 } text
                ? $": {text}"
                : "";
        }
        catch (JsonException)
        {
            return "";
        }
    }
}
