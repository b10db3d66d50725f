using System.Globalization;

namespace Cd4ml.Training;

/// <summary>
/// How raw CSV/JSON/Parquet text is read for each column type. Invariant culture everywhere. The span overloads are the
/// definitions (the loader parses cells from a reused buffer, without a string per cell); the string ones delegate.
/// </summary>
public static class ColumnValues
{
    private static readonly string[] DateFormats = ["yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", "yyyy-MM-dd HH:mm:ss"];

    public static bool IsNull(string? raw) => string.IsNullOrWhiteSpace(raw);

    public static bool IsNull(ReadOnlySpan<char> raw) => raw.IsWhiteSpace();

    public static bool TryParseNumber(string raw, out double value) => TryParseNumber(raw.AsSpan(), out value);

    public static bool TryParseNumber(ReadOnlySpan<char> raw, out double value) =>
        double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    public static bool TryParseInteger(string raw, out long value) => TryParseInteger(raw.AsSpan(), out value);

    public static bool TryParseInteger(ReadOnlySpan<char> raw, out long value) =>
        long.TryParse(raw.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    /// <summary>true/false, 1/0, yes/no (any case).</summary>
    public static bool TryParseBoolean(string raw, out bool value) => TryParseBoolean(raw.AsSpan(), out value);

    public static bool TryParseBoolean(ReadOnlySpan<char> raw, out bool value)
    {
        var text = raw.Trim();
        value = text.Equals("true", StringComparison.OrdinalIgnoreCase) || text is "1" || text.Equals("yes", StringComparison.OrdinalIgnoreCase);
        return value || text.Equals("false", StringComparison.OrdinalIgnoreCase) || text is "0" || text.Equals("no", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Only true/false (any case): what inference calls a Boolean column (1/0 are numbers).</summary>
    public static bool IsBooleanWord(ReadOnlySpan<char> raw)
    {
        var text = raw.Trim();
        return text.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>ISO dates (yyyy-MM-dd) and date-times.</summary>
    public static bool TryParseDate(string raw, out DateTime value) => TryParseDate(raw.AsSpan(), out value);

    public static bool TryParseDate(ReadOnlySpan<char> raw, out DateTime value) =>
        TryParseIsoDate(raw, out value)
        || DateTime.TryParseExact(raw.Trim(), DateFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out value);

    // The common case, a plain yyyy-MM-dd, without the general parser: datasets hold one per row. Same result as the
    // general parser (UTC midnight).
    private static bool TryParseIsoDate(ReadOnlySpan<char> raw, out DateTime value)
    {
        value = default;
        if (raw.Length != 10 || raw[4] != '-' || raw[7] != '-'
            || !int.TryParse(raw[..4], NumberStyles.None, CultureInfo.InvariantCulture, out var year)
            || !int.TryParse(raw.Slice(5, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var month)
            || !int.TryParse(raw.Slice(8, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var day)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        value = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Utc);
        return true;
    }

    /// <summary>The value of a Number/Integer/Boolean column as a float feature; NaN when null.</summary>
    public static float ToSingle(ColumnType type, string? raw)
    {
        if (IsNull(raw))
        {
            return float.NaN;
        }

        return type switch
        {
            ColumnType.Number when TryParseNumber(raw!, out var number) => (float)number,
            ColumnType.Integer when TryParseInteger(raw!, out var integer) => integer,
            ColumnType.Boolean when TryParseBoolean(raw!, out var flag) => flag ? 1f : 0f,
            _ => throw new FormatException($"'{raw}' is not a valid {type}."),
        };
    }
}
