using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Cd4ml.Serving;

/// <summary>
/// CSV written straight as UTF-8 (\n line ends), quoting a field only where <see cref="Cd4ml.Training.CsvTable"/>
/// needs it (a comma, quote or line break inside, or a space at either end), so the trainer reads every value back unchanged.
/// </summary>
internal sealed class CsvOutput
{
    private readonly ArrayBufferWriter<byte> buffer = new(64 * 1024);
    private bool lineStarted;

    public void WriteRaw(ReadOnlySpan<byte> utf8) => buffer.Write(utf8);

    public void Field(ReadOnlySpan<byte> utf8)
    {
        Separate();
        if (utf8.IndexOfAny(",\"\r\n"u8) < 0 && (utf8.Length == 0 || (utf8[0] != ' ' && utf8[^1] != ' ')))
        {
            buffer.Write(utf8);
            return;
        }

        buffer.Write("\""u8);
        for (var quote = utf8.IndexOf((byte)'"'); quote >= 0; quote = utf8.IndexOf((byte)'"'))
        {
            buffer.Write(utf8[..(quote + 1)]);
            buffer.Write("\""u8);
            utf8 = utf8[(quote + 1)..];
        }

        buffer.Write(utf8);
        buffer.Write("\""u8);
    }

    public void Field(string? text)
    {
        if (text is null)
        {
            Field(ReadOnlySpan<byte>.Empty);
            return;
        }

        if (text.Length <= 128)
        {
            Span<byte> utf8 = stackalloc byte[128 * 3];
            Field(utf8[..Encoding.UTF8.GetBytes(text, utf8)]);
            return;
        }

        Field(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>A UTC time as ISO 8601 with milliseconds, e.g. 2026-11-30T19:03:55.123Z.</summary>
    public void Field(DateTimeOffset time)
    {
        Span<byte> text = stackalloc byte[32];
        time.UtcDateTime.TryFormat(text, out var written, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        Field(text[..written]);
    }

    public void Field(double value)
    {
        Span<byte> text = stackalloc byte[32];
        value.TryFormat(text, out var written, "R", CultureInfo.InvariantCulture);
        Field(text[..written]);
    }

    /// <summary>A field made of an ASCII prefix and a hexadecimal number (prediction ids).</summary>
    public void Field(ReadOnlySpan<byte> prefix, long hex)
    {
        Span<byte> text = stackalloc byte[PredictionIds.MaximumLength];
        prefix.CopyTo(text);
        hex.TryFormat(text[prefix.Length..], out var written, "x", CultureInfo.InvariantCulture);
        Field(text[..(prefix.Length + written)]);
    }

    public void EndLine()
    {
        buffer.Write("\n"u8);
        lineStarted = false;
    }

    public byte[] ToArray() => buffer.WrittenSpan.ToArray();

    /// <summary>The bytes written so far, read in place (valid until the next write or <see cref="Clear"/>).</summary>
    public MemoryStream AsStream() => MemoryMarshal.TryGetArray(buffer.WrittenMemory, out var written)
        ? new MemoryStream(written.Array!, written.Offset, written.Count, writable: false)
        : new MemoryStream(ToArray(), writable: false);

    /// <summary>Empties the buffer, keeping its capacity.</summary>
    public void Clear()
    {
        buffer.ResetWrittenCount();
        lineStarted = false;
    }

    private void Separate()
    {
        if (lineStarted)
        {
            buffer.Write(","u8);
        }

        lineStarted = true;
    }
}
