using System.Net;
using System.Net.Sockets;
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

    /// <summary>
    /// A failure that retrying is expected to fix: the API server or another peer was unreachable, timed out, was
    /// overloaded (429, 5xx) or the write lost an optimistic-concurrency race (409). Looks through inner exceptions,
    /// since clients wrap these (an SDK exception around an <see cref="HttpRequestException"/>).
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or SocketException or TimeoutException or IOException
                || StatusOf(e) is HttpStatusCode.Conflict or HttpStatusCode.TooManyRequests
                    or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
                    or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>410 Gone: the requested resourceVersion was compacted away; the caller must re-list.</summary>
    public static bool IsGone(Exception exception) =>
        StatusOf(exception) == HttpStatusCode.Gone
        || exception is KubernetesException { Status.Reason: "Expired" or "Gone" };
}
