using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cd4ml.Training;

/// <summary>A minimal in-memory IDataView over typed arrays (float, bool, text), one array per column.</summary>
internal sealed class ColumnarDataView : IDataView
{
    private readonly Array[] columns;
    private readonly int rowCount;

    public ColumnarDataView(IReadOnlyList<(string Name, DataViewType Type, Array Values)> columns, int rowCount)
    {
        var builder = new DataViewSchema.Builder();
        foreach (var column in columns)
        {
            if (column.Values.Length != rowCount)
            {
                throw new ArgumentException($"Column '{column.Name}' has {column.Values.Length} values; expected {rowCount}.");
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
            if (view.columns[column.Index] is not TValue[] values)
            {
                throw new InvalidOperationException(
                    $"Column '{column.Name}' holds {view.columns[column.Index].GetType().GetElementType()}, not {typeof(TValue)}.");
            }

            return (ref TValue value) => value = values[position];
        }
    }
}
