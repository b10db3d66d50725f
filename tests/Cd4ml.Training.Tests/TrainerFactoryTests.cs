using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Cd4ml.Training.Tests;

/// <summary>
/// What <c>TrainerFactory</c> hands ML.NET, read back from the options object each trainer keeps: for every task and
/// algorithm the catalog allows, every hyperparameter it accepts reaches the ML.NET setting of that meaning, an unset
/// one leaves ML.NET's default (LightGBM: the catalog's), and threads, seed and determinism are pinned.
/// </summary>
public sealed class TrainerFactoryTests
{
    private const int Seed = 17;

    /// <summary>A value for each hyperparameter that is no default anywhere, so reaching the options is visible.</summary>
    private static readonly Dictionary<string, string> Distinct = new()
    {
        ["numberOfTrees"] = "7",
        ["numberOfLeaves"] = "5",
        ["minimumExampleCountPerLeaf"] = "3",
        ["learningRate"] = "0.25",
        ["l2Regularization"] = "1.5",
        ["earlyStoppingRounds"] = "4",
        ["maximumNumberOfIterations"] = "9",
        ["l1Regularization"] = "0.5",
    };

    public static IEnumerable<TestCaseData> AllowedPairs() =>
        Enum.GetValues<MlTask>().SelectMany(task => AlgorithmCatalog.AllowedFor(task).Select(algorithm =>
            new TestCaseData(task, algorithm).SetArgDisplayNames(task.ToString(), algorithm.ToString())));

    [TestCaseSource(nameof(AllowedPairs))]
    public void EveryHyperparameterTheCatalogAccepts_ReachesTheMlNetOptions(MlTask task, TrainingAlgorithm algorithm)
    {
        var set = AlgorithmCatalog.HyperparametersFor(algorithm).ToDictionary(key => key, key => Distinct[key]);

        var options = OptionsOf(Create(task, algorithm, set));

        var settings = MlNetSettingsOf(algorithm);
        Assert.That(settings.Keys, Is.EquivalentTo(AlgorithmCatalog.HyperparametersFor(algorithm)),
            "every hyperparameter the catalog accepts has an ML.NET setting in this test");
        Assert.Multiple(() =>
        {
            foreach (var (key, setting) in settings)
            {
                Assert.That(Convert.ToDouble(setting(options)), Is.EqualTo(double.Parse(Distinct[key])), key);
            }

            AssertFixedSettings(task, algorithm, options);
        });
    }

    [TestCaseSource(nameof(AllowedPairs))]
    public void UnsetHyperparameters_LeaveMlNetsDefaults_ButLightGbmHasNoL2PenaltyAndNoEarlyStopping(MlTask task, TrainingAlgorithm algorithm)
    {
        var options = OptionsOf(Create(task, algorithm, new Dictionary<string, string>()));

        var untouched = Activator.CreateInstance(options.GetType())!;
        Assert.Multiple(() =>
        {
            foreach (var (key, setting) in MlNetSettingsOf(algorithm))
            {
                var expected = algorithm == TrainingAlgorithm.LightGbm && key is "l2Regularization" or AlgorithmCatalog.EarlyStoppingRounds
                    ? 0
                    : setting(untouched);
                Assert.That(setting(options), Is.EqualTo(expected), key);
            }

            AssertFixedSettings(task, algorithm, options);
        });
    }

    [TestCase(MlTask.Regression, TrainingAlgorithm.LogisticRegression, "FastTree, LightGbm, Sdca")]
    [TestCase(MlTask.MulticlassClassification, TrainingAlgorithm.FastTree, "LightGbm, Sdca")]
    public void AnAlgorithmTheTaskDoesNotAllow_FailsAsUnknownAlgorithm_NamingTheAllowedOnes(MlTask task, TrainingAlgorithm algorithm, string allowed)
    {
        var error = Assert.Throws<TrainingException>(() => Create(task, algorithm, new Dictionary<string, string>()));

        Assert.That(error!.Reason, Is.EqualTo(TrainingFailureReason.UnknownAlgorithm));
        Assert.That(error.Message, Is.EqualTo($"Algorithm {algorithm} is not available for {task}; allowed: {allowed}."));
    }

    [Test]
    public void EachTaskAndAlgorithm_GetsItsOwnMlNetTrainer()
    {
        var trainers = AllowedPairs().Select(c => (MlTask)c.Arguments[0]! + "/" + (TrainingAlgorithm)c.Arguments[1]! + " " +
            Create((MlTask)c.Arguments[0]!, (TrainingAlgorithm)c.Arguments[1]!, new Dictionary<string, string>()).GetType().Name);

        Assert.That(trainers, Is.EqualTo(new[]
        {
            "Regression/FastTree FastTreeRegressionTrainer",
            "Regression/LightGbm LightGbmRegressionTrainer",
            "Regression/Sdca SdcaRegressionTrainer",
            "BinaryClassification/FastTree FastTreeBinaryTrainer",
            "BinaryClassification/LightGbm LightGbmBinaryTrainer",
            "BinaryClassification/Sdca SdcaLogisticRegressionBinaryTrainer",
            "BinaryClassification/LogisticRegression LbfgsLogisticRegressionBinaryTrainer",
            "MulticlassClassification/LightGbm LightGbmMulticlassTrainer",
            "MulticlassClassification/Sdca SdcaMaximumEntropyMulticlassTrainer",
        }));
    }

    private static IEstimator<ITransformer> Create(MlTask task, TrainingAlgorithm algorithm, IReadOnlyDictionary<string, string> hyperparameters) =>
        TrainerFactory.Create(new MLContext(seed: 1), task, algorithm, hyperparameters, "label", "features", Seed);

    /// <summary>Where each hyperparameter lands in the ML.NET options of <paramref name="algorithm"/>.</summary>
    private static Dictionary<string, Func<object, object?>> MlNetSettingsOf(TrainingAlgorithm algorithm) => algorithm switch
    {
        TrainingAlgorithm.FastTree => new()
        {
            ["numberOfTrees"] = o => Member(o, "NumberOfTrees"),
            ["numberOfLeaves"] = o => Member(o, "NumberOfLeaves"),
            ["minimumExampleCountPerLeaf"] = o => Member(o, "MinimumExampleCountPerLeaf"),
            ["learningRate"] = o => Member(o, "LearningRate"),
        },
        TrainingAlgorithm.LightGbm => new()
        {
            ["numberOfTrees"] = o => Member(o, "NumberOfIterations"),
            ["numberOfLeaves"] = o => Member(o, "NumberOfLeaves"),
            ["minimumExampleCountPerLeaf"] = o => Member(o, "MinimumExampleCountPerLeaf"),
            ["learningRate"] = o => Member(o, "LearningRate"),
            ["l2Regularization"] = o => ((GradientBooster.Options)Member(o, "Booster")!).L2Regularization,
            [AlgorithmCatalog.EarlyStoppingRounds] = o => Member(o, "EarlyStoppingRound"),
        },
        _ => new()
        {
            ["maximumNumberOfIterations"] = o => Member(o, "MaximumNumberOfIterations"),
            ["l1Regularization"] = o => Member(o, "L1Regularization"),
            ["l2Regularization"] = o => Member(o, "L2Regularization"),
        },
    };

    private static void AssertFixedSettings(MlTask task, TrainingAlgorithm algorithm, object options)
    {
        Assert.That(Member(options, "LabelColumnName"), Is.EqualTo("label"));
        Assert.That(Member(options, "FeatureColumnName"), Is.EqualTo("features"));
        Assert.That(Member(options, "NumberOfThreads"), Is.EqualTo(1), "one thread: a seed gives the same model");
        switch (algorithm)
        {
            case TrainingAlgorithm.FastTree:
                Assert.That(options, Is.InstanceOf<BoostedTreeOptions>());
                Assert.That(Member(options, "Seed"), Is.EqualTo(Seed));
                break;
            case TrainingAlgorithm.LightGbm:
                Assert.That(Member(options, "Seed"), Is.EqualTo(Seed));
                Assert.That(Member(options, "Deterministic"), Is.True);
                Assert.That(Member(options, "Booster"), Is.InstanceOf<GradientBooster.Options>());
                Assert.That(Member(options, "EvaluationMetric"), Is.EqualTo(task switch
                {
                    MlTask.Regression => (object)LightGbmRegressionTrainer.Options.EvaluateMetricType.RootMeanSquaredError,
                    MlTask.BinaryClassification => LightGbmBinaryTrainer.Options.EvaluateMetricType.Logloss,
                    _ => LightGbmMulticlassTrainer.Options.EvaluateMetricType.LogLoss,
                }));
                break;
        }
    }

    /// <summary>The options object an ML.NET trainer keeps (a non-public field of its base class).</summary>
    private static TrainerInputBase OptionsOf(IEstimator<ITransformer> trainer)
    {
        for (var type = trainer.GetType(); type != null; type = type.BaseType)
        {
            var field = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .FirstOrDefault(f => typeof(TrainerInputBase).IsAssignableFrom(f.FieldType));
            if (field?.GetValue(trainer) is TrainerInputBase options)
            {
                return options;
            }
        }

        throw new InvalidOperationException($"{trainer.GetType().Name} keeps no options object this test can find.");
    }

    /// <summary>An ML.NET option by name (they are public fields, some properties).</summary>
    private static object? Member(object options, string name)
    {
        var member = (MemberInfo?)options.GetType().GetField(name) ?? options.GetType().GetProperty(name)
                     ?? throw new InvalidOperationException($"{options.GetType().Name} has no option {name}.");
        return member is FieldInfo field ? field.GetValue(options) : ((PropertyInfo)member).GetValue(options);
    }
}
