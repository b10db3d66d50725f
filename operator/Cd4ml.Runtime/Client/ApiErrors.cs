using System.Net;
using k8s;
using k8s.Autorest;

namespace Cd4ml.Runtime.Client;

/// <summary>Classifies API failures the runtime reacts to.</summary>
public static class ApiErrors
{
    public static HttpStatusCode? StatusOf(Exception exception) => exception switch
    {
        HttpOperationException http => http.Response?.StatusCode,
        KubernetesException kube when kube.Status?.Code is { } code => (HttpStatusCode)code,
        _ => null,
    };

    public static bool IsNotFound(Exception exception) => StatusOf(exception) == HttpStatusCode.NotFound;

    public static bool IsConflict(Exception exception) => StatusOf(exception) == HttpStatusCode.Conflict;

    public static bool IsAlreadyExists(Exception exception) => IsConflict(exception);

    /// <summary>410 Gone: the requested resourceVersion was compacted away; the caller must re-list.</summary>
    public static bool IsGone(Exception exception) =>
        StatusOf(exception) == HttpStatusCode.Gone
        || exception is KubernetesException { Status.Reason: "Expired" or "Gone" };
}
