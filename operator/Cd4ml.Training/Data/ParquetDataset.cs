using System.Globalization;
using System.Text;
using Cd4ml.Artifacts;
using Parquet;
using Parquet.Schema;

namespace Cd4ml.Training;

/// <summary>
/// Reads a Parquet file (Parquet.Net) from a seekable stream, row group by row group, into the same columns as a CSV:
/// each value is written as the text a CSV would hold (invariant numbers that round-trip, <c>true</c>/<c>false</c>, ISO
/// dates; null is an empty cell), so schema inference, validation and their messages are the same for both formats.
/// Numbers and dates are formatted into a reused buffer, not a string per cell. Only flat columns of scalar types are
/// supported.
/// </summary>
public static class ParquetDataset
{
    public static bool IsParquet(S3Location location) => location.Key.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase);

    public static async Task<CsvTable> ReadAsync(Stream content, CancellationToken cancellationToken = default)
    {
        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(content, leaveStreamOpen: true, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException)
        {
            throw new FormatException($"it cannot be read as Parquet ({e.Message}).", e);
        }

        await using (reader)
        {
            var fields = reader.Schema.GetDataFields();
            if (reader.Schema.Fields.Count != fields.Length || fields.FirstOrDefault(f => f.IsArray) is { } nested)
            {
                var name = fields.FirstOrDefault(f => f.IsArray)?.Name ?? reader.Schema.Fields.First(f => f is not DataField).Name;
                throw new FormatException($"column '{name}' is nested (a list, map or struct); only flat columns of scalar values are supported.");
            }

            var columns = fields.Select(_ => new TextColumn()).ToArray();
            for (var group = 0; group < reader.RowGroupCount; group++)
            {
                using var rows = reader.OpenRowGroupReader(group);
                var count = checked((int)rows.RowCount);
                for (var f = 0; f < fields.Length; f++)
                {
                    await ReadColumnAsync(rows, fields[f], count, columns[f], cancellationToken);
                }
            }

            foreach (var column in columns)
            {
                column.Complete();
            }

            return CsvTable.FromColumns(fields.Select(f => f.Name).ToList(), columns);
        }
    }

    private static Task ReadColumnAsync(ParquetRowGroupReader rows, DataField field, int count, TextColumn column,
        CancellationToken cancellationToken)
    {
        var type = field.ClrType;
        return type == typeof(string) || type == typeof(ReadOnlyMemory<char>) ? ReadStringsAsync(rows, field, count, column, cancellationToken)
            : type == typeof(bool) ? ReadAsync<bool>(rows, field, count, column, (v, text) => Utf8(v ? "true"u8 : "false"u8, text), cancellationToken)
            : type == typeof(sbyte) ? ReadAsync<sbyte>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(byte) ? ReadAsync<byte>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(short) ? ReadAsync<short>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(ushort) ? ReadAsync<ushort>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(int) ? ReadAsync<int>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(uint) ? ReadAsync<uint>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(long) ? ReadAsync<long>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(ulong) ? ReadAsync<ulong>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(float) ? ReadAsync<float>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(double) ? ReadAsync<double>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(decimal) ? ReadAsync<decimal>(rows, field, count, column, Number, cancellationToken)
            : type == typeof(DateTime) ? ReadAsync<DateTime>(rows, field, count, column, Date, cancellationToken)
            : type == typeof(DateOnly) ? ReadAsync<DateOnly>(rows, field, count, column,
                (v, text) => Written(v.TryFormat(text, out var n, "yyyy-MM-dd", CultureInfo.InvariantCulture), n), cancellationToken)
            : type == typeof(DateTimeOffset) ? ReadAsync<DateTimeOffset>(rows, field, count, column, (v, text) => Date(v.UtcDateTime, text), cancellationToken)
            : throw new FormatException(
                $"column '{field.Name}' has Parquet type {type.Name}, which the trainer does not read (strings, booleans, integers, floating-point, decimals and dates are).");
    }

    private static async Task ReadStringsAsync(ParquetRowGroupReader rows, DataField field, int count, TextColumn column,
        CancellationToken cancellationToken)
    {
        var values = new string?[count];
        await rows.ReadAsync(field, values.AsMemory(), null, cancellationToken);
        foreach (var value in values)
        {
            column.Add(value);
        }
    }

    private delegate int Formatter<in T>(T value, Span<byte> text);

    private static async Task ReadAsync<T>(ParquetRowGroupReader rows, DataField field, int count, TextColumn column,
        Formatter<T> format, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T?[count];
        if (field.IsNullable)
        {
            await rows.ReadAsync<T>(field, values.AsMemory(), null, cancellationToken);
        }
        else
        {
            var required = new T[count];
            await rows.ReadAsync<T>(field, required.AsMemory(), null, cancellationToken);
            for (var r = 0; r < count; r++)
            {
                values[r] = required[r];
            }
        }

        Append(values, column, format);
    }

    private static void Append<T>(T?[] values, TextColumn column, Formatter<T> format)
        where T : struct
    {
        Span<byte> text = stackalloc byte[64];
        foreach (var value in values)
        {
            column.AddUtf8(value is { } present ? text[..format(present, text)] : []);
        }
    }

    // Shortest text that round-trips (what double.ToString gives), invariant.
    private static int Number<T>(T value, Span<byte> text)
        where T : IUtf8SpanFormattable =>
        Written(value.TryFormat(text, out var written, default, CultureInfo.InvariantCulture), written);

    // A midnight is a date (yyyy-MM-dd), anything else an ISO date-time in UTC: both forms ColumnValues reads as Date.
    private static int Date(DateTime value, Span<byte> text)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc);
        var format = utc.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-ddTHH:mm:ss.FFFFFFFZ";
        return Written(utc.TryFormat(text, out var written, format, CultureInfo.InvariantCulture), written);
    }

    private static int Utf8(ReadOnlySpan<byte> value, Span<byte> text)
    {
        value.CopyTo(text);
        return value.Length;
    }

    private static int Written(bool formatted, int written) =>
        formatted ? written : throw new FormatException("A value does not fit a 64-byte cell.");
}
