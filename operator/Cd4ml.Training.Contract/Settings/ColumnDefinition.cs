using System.Text.Json.Serialization;

namespace Cd4ml.Training;

/// <summary>Column types of the dataset schema.</summary>
public enum ColumnType
{
    Number,
    Integer,
    String,
    Boolean,
    Date,
}

/// <summary>One column of the dataset schema (<c>CD4ML_SCHEMA</c>). Min and max apply to Number and Integer columns.</summary>
public sealed record ColumnDefinition(string Name, ColumnType Type, bool Nullable = false, double? Min = null, double? Max = null)
{
    [JsonIgnore]
    public bool IsNumeric => Type is ColumnType.Number or ColumnType.Integer;
}

/// <summary>Rows whose value in <see cref="Column"/> lies outside [Min, Max] are dropped before validation (<c>CD4ML_FILTERS</c>).</summary>
public sealed record RowFilter(string Column, double? Min = null, double? Max = null);

public enum SplitMethod
{
    /// <summary>A seeded shuffle: for data without a time order.</summary>
    Random,

    /// <summary>The latest dates of <see cref="SplitSettings.TimeColumn"/> go to validation: for temporal data.</summary>
    Time,
}

/// <summary>How rows are divided into training and validation sets (<c>CD4ML_SPLIT</c>).</summary>
public sealed record SplitSettings(SplitMethod Method = SplitMethod.Random, double ValidationFraction = 0.2, int Seed = 42,
    string? TimeColumn = null);

/// <summary>What a run does with rows whose label is empty (<c>CD4ML_MISSING_LABELS</c>).</summary>
public enum MissingLabelPolicy
{
    /// <summary>Fail with a SchemaViolation naming the rows: the default, since a silently smaller dataset surprises.</summary>
    Fail,

    /// <summary>Drop those rows before validation and count them as <c>droppedRows.missingLabels</c>.</summary>
    Drop,
}
