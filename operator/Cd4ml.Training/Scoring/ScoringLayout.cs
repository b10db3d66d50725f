using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cd4ml.Training.Scoring;

/// <summary>
/// Where each feature of a model's input lives in a <see cref="ScoringInput"/> row, worked out once per model: Number,
/// Integer and Boolean features take one float slot, a Date feature five (its <see cref="ModelInputLayout"/> date
/// parts), a String feature one text slot. Also the ML.NET input schema the model is bound to, which is exactly the
/// schema <see cref="ModelInputLayout.BuildDataView"/> gives the trainer, and which slot feeds each of its columns.
/// </summary>
internal sealed class ScoringLayout
{
    private readonly int[] slots;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> byName;

    public ScoringLayout(ModelInputLayout layout)
    {
        Features = layout.Features;
        slots = new int[Features.Count];
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var columnSlots = new Dictionary<string, (bool IsText, int Slot)>(StringComparer.Ordinal);
        for (var f = 0; f < Features.Count; f++)
        {
            var feature = Features[f];
            names[feature.Name] = f;
            switch (feature.Type)
            {
                case ColumnType.String:
                    slots[f] = TextCount++;
                    columnSlots[feature.Name] = (true, slots[f]);
                    break;
                case ColumnType.Date:
                    slots[f] = FloatCount;
                    foreach (var part in ModelInputLayout.DateParts(feature.Name))
                    {
                        columnSlots[part] = (false, FloatCount++);
                    }

                    break;
                default:
                    slots[f] = FloatCount++;
                    columnSlots[feature.Name] = (false, slots[f]);
                    break;
            }
        }

        byName = names.GetAlternateLookup<ReadOnlySpan<char>>();
        var empty = new CsvTable(Features.Select(f => f.Name).ToList(), []);
        Schema = layout.BuildDataView(empty, withLabel: false).Schema;
        // Columns the features do not fill (the label, which scoring never reads) get a default value: Slot -1.
        Columns = Schema.Select(c => columnSlots.TryGetValue(c.Name, out var slot) ? slot : (c.Type is TextDataViewType, -1)).ToArray();
    }

    public IReadOnlyList<ColumnDefinition> Features { get; }

    public int FloatCount { get; }

    public int TextCount { get; }

    /// <summary>The model's input schema.</summary>
    public DataViewSchema Schema { get; }

    /// <summary>Per column of <see cref="Schema"/>: a text or float slot, or -1 for a column scoring leaves at its default.</summary>
    public IReadOnlyList<(bool IsText, int Slot)> Columns { get; }

    /// <summary>The first float slot (or the text slot) of feature <paramref name="feature"/>.</summary>
    public int SlotOf(int feature) => slots[feature];

    public int FeatureIndex(ReadOnlySpan<char> name) => byName.TryGetValue(name, out var feature) ? feature : -1;
}
