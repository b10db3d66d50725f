using System.Globalization;
using System.Text;

namespace Cd4ml.Training.Scoring;

/// <summary>A request value that does not fit the model's input; names the field (and the row for batches).</summary>
public sealed class ScoringInputException(string field, int row, string message) : Exception(message)
{
    public string Field { get; } = field;

    public int Row { get; } = row;
}

/// <summary>
/// Rows to score, already in the model's input layout: one float per numeric input (a Date feature is five, see ModelInputLayout.DateParts) and one
/// text per String feature. A reader fills it field by field (<see cref="BeginRow"/>, Set…, <see cref="EndRow"/>);
/// each value is checked when it is set (its type) and each row when it ends (required fields), with the messages a
/// client sees. Values are read as the trainer reads CSV text (see <see cref="ColumnValues"/>). Not thread-safe: one
/// per request.
/// </summary>
public sealed class ScoringInput
{
    private readonly ScoringLayout layout;
    private readonly bool[] present;
    private float[] floats;
    private string?[] texts;

    internal ScoringInput(ScoringLayout layout, int capacity)
    {
        this.layout = layout;
        present = new bool[layout.Features.Count];
        capacity = Math.Max(capacity, 1);
        floats = new float[capacity * layout.FloatCount];
        texts = new string?[capacity * layout.TextCount];
    }

    /// <summary>Complete rows.</summary>
    public int Count { get; private set; }

    /// <summary>The row being filled (its index), or -1 between rows.</summary>
    public int CurrentRow { get; private set; } = -1;

    internal ReadOnlySpan<float> FloatsOf(int row) => floats.AsSpan(row * layout.FloatCount, layout.FloatCount);

    internal ReadOnlySpan<string?> TextsOf(int row) => texts.AsSpan(row * layout.TextCount, layout.TextCount);

    /// <summary>A Number, Integer or Boolean (1/0) feature's value in a complete row, as scored; NaN when missing.</summary>
    public float NumberOf(int row, int feature) => floats[row * layout.FloatCount + layout.SlotOf(feature)];

    /// <summary>A String feature's value in a complete row, as scored; null or blank when missing.</summary>
    public string? TextOf(int row, int feature) => texts[row * layout.TextCount + layout.SlotOf(feature)];

    /// <summary>The feature a field sets, or -1 when the model does not use the field (such fields are ignored).</summary>
    public int FeatureIndex(ReadOnlySpan<char> field) => layout.FeatureIndex(field);

    /// <summary>The name of feature <paramref name="feature"/>, for messages.</summary>
    public string FeatureName(int feature) => layout.Features[feature].Name;

    public void BeginRow()
    {
        CurrentRow = Count;
        var row = Count + 1;
        if (row * layout.FloatCount > floats.Length)
        {
            Array.Resize(ref floats, Math.Max(floats.Length * 2, row * layout.FloatCount));
        }

        if (row * layout.TextCount > texts.Length)
        {
            Array.Resize(ref texts, Math.Max(texts.Length * 2, row * layout.TextCount));
        }

        Array.Clear(present);
        floats.AsSpan(CurrentRow * layout.FloatCount, layout.FloatCount).Fill(float.NaN);
        texts.AsSpan(CurrentRow * layout.TextCount, layout.TextCount).Clear();
    }

    /// <summary>Checks that every required feature was set; the row then counts.</summary>
    public void EndRow()
    {
        for (var f = 0; f < present.Length; f++)
        {
            if (!present[f])
            {
                SetText(f, null);
            }
        }

        Count++;
        CurrentRow = -1;
    }

    /// <summary>Forgets every row (the buffers stay).</summary>
    public void Clear()
    {
        Count = 0;
        CurrentRow = -1;
    }

    /// <summary>A value given as text (a JSON string, a CSV cell), or null; blank text counts as null.</summary>
    public void SetText(int feature, string? raw)
    {
        var column = layout.Features[feature];
        present[feature] = true;
        if (ColumnValues.IsNull(raw))
        {
            if (!column.Nullable)
            {
                throw new ScoringInputException(column.Name, CurrentRow, $"row {CurrentRow}: field '{column.Name}' ({column.Type}) is required.");
            }

            if (column.Type == ColumnType.String)
            {
                // Kept as given: the featurizer sees what the trainer saw for a blank cell.
                texts[CurrentRow * layout.TextCount + layout.SlotOf(feature)] = raw;
            }

            return;
        }

        var slot = CurrentRow * layout.FloatCount + layout.SlotOf(feature);
        switch (column.Type)
        {
            case ColumnType.String:
                texts[CurrentRow * layout.TextCount + layout.SlotOf(feature)] = raw;
                return;
            case ColumnType.Number when ColumnValues.TryParseNumber(raw!, out var number):
                floats[slot] = (float)number;
                return;
            case ColumnType.Integer when ColumnValues.TryParseInteger(raw!, out var integer):
                floats[slot] = integer;
                return;
            case ColumnType.Boolean when ColumnValues.TryParseBoolean(raw!, out var flag):
                floats[slot] = flag ? 1f : 0f;
                return;
            case ColumnType.Date when ColumnValues.TryParseDate(raw!, out var date):
                // The layout's date parts, in ModelInputLayout.DateParts order: day of week (0 = Sunday), month, day of
                // month, year, day of year.
                floats[slot] = (float)date.DayOfWeek;
                floats[slot + 1] = date.Month;
                floats[slot + 2] = date.Day;
                floats[slot + 3] = date.Year;
                floats[slot + 4] = date.DayOfYear;
                return;
            default:
                throw new ScoringInputException(column.Name, CurrentRow, $"row {CurrentRow}: field '{column.Name}' must be a {column.Type}; got '{raw}'.");
        }
    }

    /// <summary>A JSON number, as its UTF-8 text: Number and Integer features are parsed without a string in between.</summary>
    public void SetNumber(int feature, ReadOnlySpan<byte> utf8)
    {
        var column = layout.Features[feature];
        var slot = CurrentRow * layout.FloatCount + layout.SlotOf(feature);
        switch (column.Type)
        {
            case ColumnType.Number when double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number):
                floats[slot] = (float)number;
                present[feature] = true;
                return;
            case ColumnType.Integer when long.TryParse(utf8, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer):
                floats[slot] = integer;
                present[feature] = true;
                return;
            default:
                SetText(feature, Encoding.UTF8.GetString(utf8));
                return;
        }
    }

    /// <summary>A JSON true or false.</summary>
    public void SetBoolean(int feature, bool value) => SetText(feature, value ? "true" : "false");
}
