using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cd4ml.Training;

/// <summary>
/// A minimal in-memory IDataView over typed arrays, one array per column: scalars (float, bool, text) hold one value
/// per row; a fixed-size float vector column holds its rows back to back (row r is values[r*size .. (r+1)*size)).
/// </summary>
internal sealed class ColumnarDataView : IDataView
{
    private readonly Array[] columns;
    private readonly int[] vectorSizes;
    private readonly int rowCount;

    public ColumnarDataView(IReadOnlyList<(string Name, DataViewType Type, Array Values)> columns, int rowCount)
    {
        var builder = new DataViewSchema.Builder();
        vectorSizes = new int[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            var column = columns[i];
            if (column.Type is VectorDataViewType vector)
            {
                if (vector.ItemType != NumberDataViewType.Single || vector.Size == 0 || column.Values is not float[])
                {
                    throw new ArgumentException($"Column '{column.Name}': only fixed-size float vectors held in a float[] are supported.");
                }

                vectorSizes[i] = vector.Size;
            }

            var expected = (long)rowCount * Math.Max(vectorSizes[i], 1);
            if (column.Values.Length != expected)
            {
                throw new ArgumentException($"Column '{column.Name}' has {column.Values.Length} values; expected {expected}.");
            }

            builder.AddColumn(column.Name, column.Type);
        }

        Schema = builder.ToSchema();
        this.columns = columns.Select(c => c.Values).ToArray();
        this.rowCount = rowCount;
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => rowCount;

    /// <summary>The array behind a column (see the class summary for its layout).</summary>
    public Array ValuesOf(string column) => columns[Schema[column].Index];

    /// <summary>The rows at the given positions, in that order.</summary>
    public ColumnarDataView Select(IReadOnlyList<int> positions)
    {
        var selected = new List<(string, DataViewType, Array)>(columns.Length);
        for (var c = 0; c < columns.Length; c++)
        {
            var size = Math.Max(vectorSizes[c], 1);
            var source = columns[c];
            var target = Array.CreateInstance(source.GetType().GetElementType()!, positions.Count * size);
            for (var r = 0; r < positions.Count; r++)
            {
                Array.Copy(source, positions[r] * size, target, r * size, size);
            }

            selected.Add((Schema[c].Name, Schema[c].Type, target));
        }

        return new ColumnarDataView(selected, positions.Count);
    }

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [new Cursor(this, columnsNeeded)];

    private sealed class Cursor(ColumnarDataView view, IEnumerable<DataViewSchema.Column> columnsNeeded) : DataViewRowCursor
    {
        private readonly HashSet<int> active = columnsNeeded.Select(c => c.Index).ToHashSet();
        private long position = -1;

        public override DataViewSchema Schema => view.Schema;

        public override long Position => position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (position + 1 < view.rowCount)
            {
                position++;
                return true;
            }

            position = view.rowCount;
            return false;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var values = view.columns[column.Index];
            var size = view.vectorSizes[column.Index];
            if (size > 0 && typeof(TValue) == typeof(VBuffer<float>))
            {
                var flat = (float[])values;
                ValueGetter<VBuffer<float>> vector = (ref VBuffer<float> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, size);
                    flat.AsSpan(checked((int)position * size), size).CopyTo(editor.Values);
                    value = editor.Commit();
                };
                return (ValueGetter<TValue>)(Delegate)vector;
            }

            if (size > 0 || values is not TValue[] scalars)
            {
                throw new InvalidOperationException(
                    $"Column '{column.Name}' holds {column.Type}, not {typeof(TValue)}.");
            }

            return (ref TValue value) => value = scalars[position];
        }
    }
}
