using System.Reflection;
using Cd4ml.Operator.Training;
using Cd4ml.Training;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

/// <summary>
/// The operator shares only the training contract with the trainer: it never loads ML.NET (or the trainer) to validate
/// a TrainingRun, and the contract itself needs nothing beyond the BCL.
/// </summary>
public sealed class TrainingContractBoundaryTests
{
    /// <summary>Every assembly <paramref name="root"/> references, directly or through others, by simple name.</summary>
    private static HashSet<string> ReferencedTransitively(Assembly root)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<Assembly>([root]);
        while (pending.TryDequeue(out var assembly))
        {
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (!seen.Add(reference.Name!) || IsFramework(reference.Name!))
                {
                    continue;
                }

                pending.Enqueue(Assembly.Load(reference));
            }
        }

        return seen;
    }

    private static bool IsFramework(string name) =>
        name is "netstandard" or "mscorlib" || name.StartsWith("System.", StringComparison.Ordinal) || name == "System";

    [Test]
    public void TheOperator_ReferencesNeitherMicrosoftML_NorTheTrainer_EvenTransitively()
    {
        var references = ReferencedTransitively(typeof(TrainingRunReconciler).Assembly);

        Assert.That(references, Does.Contain("Cd4ml.Training.Contract"), "the walk must reach the contract, or it proves nothing");
        Assert.That(references, Has.None.StartsWith("Microsoft.ML"));
        Assert.That(references, Has.None.EqualTo("Cd4ml.Training"));
    }

    [Test]
    public void TheContract_ReferencesOnlyTheBaseClassLibrary()
    {
        var references = typeof(TrainingSettings).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.That(references, Is.Not.Empty);
        Assert.That(references, Has.All.Matches<string>(IsFramework), string.Join(", ", references));
    }
}
