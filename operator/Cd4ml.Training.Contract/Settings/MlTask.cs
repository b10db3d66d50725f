namespace Cd4ml.Training;

public enum MlTask
{
    Regression,
    BinaryClassification,
    MulticlassClassification,
}

public enum TrainingAlgorithm
{
    FastTree,
    LightGbm,
    Sdca,
    LogisticRegression,
}
