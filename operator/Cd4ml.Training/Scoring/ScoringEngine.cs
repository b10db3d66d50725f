using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cd4ml.Training.Scoring;

/// <summary>
/// Scores one row at a time through the loaded model, the way ML.NET's PredictionEngine does: the model is bound
/// once (<see cref="ITransformer.GetRowToRowMapper"/>) to an input row this engine points at the row to score, and the
/// output getters are fetched once. No data view, cursor or schema is built per request. Not thread-safe:
/// <see cref="ScoringModel"/> keeps a pool.
/// </summary>
internal sealed class ScoringEngine
{
    private readonly InputRow input;
    private readonly Func<Prediction> read;

    public ScoringEngine(ITransformer model, ScoringLayout layout, MlTask task, IReadOnlyList<string> classes)
    {
        input = new InputRow(layout);
        var mapper = model.GetRowToRowMapper(layout.Schema);
        var schema = mapper.OutputSchema;
        var score = schema["Score"];
        switch (task)
        {
            case MlTask.Regression:
            {
                var row = mapper.GetRow(input, [score]);
                var getScore = row.GetGetter<float>(score);
                read = () =>
                {
                    float value = 0;
                    getScore(ref value);
                    return new Prediction(value);
                };
                break;
            }
            case MlTask.BinaryClassification:
            {
                var row = mapper.GetRow(input, [score, schema["Probability"], schema["PredictedLabel"]]);
                var getScore = row.GetGetter<float>(score);
                var getProbability = row.GetGetter<float>(schema["Probability"]);
                var getLabel = row.GetGetter<bool>(schema["PredictedLabel"]);
                read = () =>
                {
                    float value = 0, probability = 0;
                    var label = false;
                    getScore(ref value);
                    getProbability(ref probability);
                    getLabel(ref label);
                    return new Prediction(value, label ? "true" : "false", probability);
                };
                break;
            }
            default:
            {
                var row = mapper.GetRow(input, [score, schema["PredictedLabel"]]);
                var getScores = row.GetGetter<VBuffer<float>>(score);
                var getLabel = row.GetGetter<ReadOnlyMemory<char>>(schema["PredictedLabel"]);
                var scores = default(VBuffer<float>);
                var label = default(ReadOnlyMemory<char>);
                read = () =>
                {
                    getScores(ref scores);
                    getLabel(ref label);
                    var byClass = new Dictionary<string, double>(classes.Count);
                    var i = 0;
                    foreach (var value in scores.DenseValues())
                    {
                        if (i >= classes.Count)
                        {
                            break;
                        }

                        byClass[classes[i++]] = value;
                    }

                    var predicted = label.ToString();
                    var probability = byClass.GetValueOrDefault(predicted);
                    return new Prediction(probability, predicted, probability, byClass);
                };
                break;
            }
        }
    }

    public Prediction Score(ScoringInput rows, int row)
    {
        input.MoveTo(rows, row);
        return read();
    }

    /// <summary>
    /// The mapper's input: its getters read the current row's slots. The position advances with every row, because
    /// ML.NET's transforms cache per position.
    /// </summary>
    private sealed class InputRow : DataViewRow
    {
        private readonly Delegate[] getters;
        private ScoringInput rows = null!;
        private int row;
        private long position = -1;

        public InputRow(ScoringLayout layout)
        {
            Schema = layout.Schema;
            getters = new Delegate[Schema.Count];
            for (var c = 0; c < Schema.Count; c++)
            {
                var (isText, slot) = layout.Columns[c];
                var type = Schema[c].Type;
                getters[c] = (isText, slot >= 0) switch
                {
                    (true, true) => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) =>
                        value = (rows.TextsOf(row)[slot] ?? "").AsMemory()),
                    (false, true) => (ValueGetter<float>)((ref float value) => value = rows.FloatsOf(row)[slot]),
                    (true, false) => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = ReadOnlyMemory<char>.Empty),
                    _ when type == BooleanDataViewType.Instance => (ValueGetter<bool>)((ref bool value) => value = false),
                    _ => (ValueGetter<float>)((ref float value) => value = 0f),
                };
            }
        }

        public override DataViewSchema Schema { get; }

        public override long Position => position;

        public override long Batch => 0;

        public void MoveTo(ScoringInput input, int index)
        {
            rows = input;
            row = index;
            position++;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            getters[column.Index] as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type}, not {typeof(TValue)}.");

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);
    }
}
