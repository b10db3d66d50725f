using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cd4ml.Training;

/// <summary>
/// Computes the fitted featurizer's output (impute, one-hot, concatenate; see <see cref="ModelPipeline"/>) directly
/// from the raw columns, so a learner trains on plain float vectors instead of pulling every row through ML.NET's
/// transform cursors several times. Everything it needs is read back from the fitted featurizer itself: each numeric
/// feature's replacement for a missing value (by transforming one all-missing row) and each text feature's one-hot
/// vocabulary in slot order (its SlotNames). The saved model still holds the featurizer, so serving and this encoder
/// compute the same vector (tests compare the two slot by slot).
/// </summary>
internal sealed class FeatureEncoder
{
    private readonly ModelInputLayout layout;
    private readonly float[] replacements;
    private readonly Dictionary<string, int>[] vocabularies;
    private readonly int[] offsets;

    private FeatureEncoder(ModelInputLayout layout, float[] replacements, Dictionary<string, int>[] vocabularies, int size)
    {
        this.layout = layout;
        this.replacements = replacements;
        this.vocabularies = vocabularies;
        Size = size;
        offsets = new int[vocabularies.Length];
        var offset = replacements.Length;
        for (var i = 0; i < vocabularies.Length; i++)
        {
            offsets[i] = offset;
            offset += vocabularies[i].Count;
        }
    }

    /// <summary>Slots in the feature vector.</summary>
    public int Size { get; }

    public static FeatureEncoder FromFitted(ITransformer featurizer, ModelInputLayout layout, DataViewSchema inputSchema)
    {
        var output = featurizer.GetOutputSchema(inputSchema);
        if (output[ModelPipeline.FeaturesColumn].Type is not VectorDataViewType { Size: > 0 } featuresType
            || featuresType.ItemType != NumberDataViewType.Single)
        {
            throw new InvalidOperationException($"The featurizer's {ModelPipeline.FeaturesColumn} column is not a fixed-size float vector.");
        }

        var vocabularies = layout.TextFeatureNames.Select(name =>
        {
            var slots = default(VBuffer<ReadOnlyMemory<char>>);
            output[name].GetSlotNames(ref slots);
            var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var term in slots.DenseValues())
            {
                vocabulary.Add(term.ToString(), vocabulary.Count);
            }

            return vocabulary;
        }).ToArray();

        var numericCount = layout.NumericFeatureNames.Count;
        if (numericCount + vocabularies.Sum(v => v.Count) != featuresType.Size)
        {
            throw new InvalidOperationException(
                $"The featurizer makes {featuresType.Size} slots, not {numericCount} numeric + {vocabularies.Sum(v => v.Count)} one-hot.");
        }

        // One row with every feature missing: the featurizer's output holds each numeric feature's replacement.
        var missing = new CsvTable(layout.Features.Select(f => f.Name).ToList(), [new string?[layout.Features.Count]]);
        var probe = featurizer.Transform(layout.BuildDataView(missing, withLabel: false));
        var replacements = new float[numericCount];
        using (var cursor = probe.GetRowCursor([probe.Schema[ModelPipeline.FeaturesColumn]]))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(probe.Schema[ModelPipeline.FeaturesColumn]);
            var vector = default(VBuffer<float>);
            cursor.MoveNext();
            getter(ref vector);
            var dense = vector.DenseValues().ToArray();
            Array.Copy(dense, replacements, numericCount);
        }

        return new FeatureEncoder(layout, replacements, vocabularies, featuresType.Size);
    }

    /// <summary>The feature vector of every row of <paramref name="raw"/> (built by the same layout), plus its label column.</summary>
    public ColumnarDataView Encode(ColumnarDataView raw)
    {
        var count = checked((int)raw.GetRowCount()!.Value);
        var features = new float[checked(count * Size)];
        for (var f = 0; f < replacements.Length; f++)
        {
            var values = (float[])raw.ValuesOf(layout.NumericFeatureNames[f]);
            var replacement = replacements[f];
            for (var r = 0; r < count; r++)
            {
                var value = values[r];
                features[r * Size + f] = float.IsNaN(value) ? replacement : value;
            }
        }

        for (var t = 0; t < vocabularies.Length; t++)
        {
            var values = (ReadOnlyMemory<char>[])raw.ValuesOf(layout.TextFeatureNames[t]);
            var lookup = vocabularies[t].GetAlternateLookup<ReadOnlySpan<char>>();
            for (var r = 0; r < count; r++)
            {
                // A term the featurizer never saw (or a missing value) encodes as all zeros, as one-hot does.
                if (lookup.TryGetValue(values[r].Span, out var slot))
                {
                    features[r * Size + offsets[t] + slot] = 1f;
                }
            }
        }

        var label = raw.Schema[layout.Label.Name];
        return new ColumnarDataView(
        [
            (ModelPipeline.FeaturesColumn, new VectorDataViewType(NumberDataViewType.Single, Size), features),
            (label.Name, label.Type, raw.ValuesOf(label.Name)),
        ], count);
    }
}
