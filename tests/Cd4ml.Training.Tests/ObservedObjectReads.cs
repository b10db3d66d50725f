using System.Reflection;
using System.Runtime.ExceptionServices;
using Amazon.S3;
using Amazon.S3.Model;

namespace Cd4ml.Training.Tests;

/// <summary>
/// A real S3 client whose object downloads (GetObjectAsync) first pass <see cref="BeforeGet"/>, which sees the key and the
/// request's cancellation token: it can count, hold or release them. Everything else goes straight to the inner client.
/// </summary>
public class ObservedObjectReads : DispatchProxy
{
    private IAmazonS3 inner = null!;
    private Func<string, CancellationToken, Task> beforeGet = null!;

    public static IAmazonS3 Wrap(IAmazonS3 inner, Func<string, CancellationToken, Task> beforeGet)
    {
        var client = Create<IAmazonS3, ObservedObjectReads>();
        var observed = (ObservedObjectReads)(object)client;
        (observed.inner, observed.beforeGet) = (inner, beforeGet);
        return client;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        if (method is { Name: nameof(IAmazonS3.GetObjectAsync) } && args is [string, string key, CancellationToken cancellationToken])
        {
            return GetAsync(method, args, key, cancellationToken);
        }

        return Forward(method!, args);
    }

    private async Task<GetObjectResponse> GetAsync(MethodInfo method, object?[] args, string key, CancellationToken cancellationToken)
    {
        await beforeGet(key, cancellationToken);
        return await (Task<GetObjectResponse>)Forward(method, args)!;
    }

    private object? Forward(MethodInfo method, object?[]? args)
    {
        try
        {
            return method.Invoke(inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
