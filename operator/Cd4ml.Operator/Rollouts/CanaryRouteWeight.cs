namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// The canary weight an HTTPRoute carries with GatewayApi routing. A step's weight reaches the route only once the
/// canary has enough Ready pods for it, so traffic never goes to pods that cannot serve it yet; until then the route
/// keeps its weight, or takes the highest weight of an earlier step that the Ready pods can already carry. A lower
/// weight (rollback, abort, promotion, a step down) applies at once: under routed traffic stable keeps all its pods.
/// </summary>
public static class CanaryRouteWeight
{
    /// <param name="target">The plan's weight at the current step; 0 when no rollout is active.</param>
    /// <param name="onRoute">The canary weight the route was last given.</param>
    /// <param name="stepWeights">The setWeight values of the steps reached so far (<see cref="CanaryPlan.WeightsUpTo"/>).</param>
    /// <param name="readyPods">Ready canary pods of the canary version (<see cref="ServingWorkloads.ReadyPods"/>).</param>
    /// <param name="podsFor">How many canary pods a weight needs.</param>
    public static int Next(int target, int onRoute, IEnumerable<int> stepWeights, int readyPods, Func<int, int> podsFor)
    {
        if (target <= onRoute)
        {
            return target;
        }

        return stepWeights.Append(target)
            .Where(weight => weight > onRoute && weight <= target && podsFor(weight) <= readyPods)
            .DefaultIfEmpty(onRoute)
            .Max();
    }
}
