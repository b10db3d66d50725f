using System.IO.Compression;

namespace Cd4ml.Training;

/// <summary>
/// Rewrites a zip archive so that its bytes depend only on its entries' names and contents: entries in ordinal name
/// order, each stamped <see cref="EntryTime"/>, compressed at one fixed level. ML.NET's model.zip otherwise carries the
/// save time in every entry, so the same data, settings and seed gave a different sha256 on every run.
/// </summary>
public static class ReproducibleZip
{
    /// <summary>The earliest time a zip entry can record (MS-DOS date), used for every entry.</summary>
    public static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static byte[] Normalize(byte[] zip)
    {
        using var source = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        using var output = new MemoryStream();
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries.OrderBy(e => e.FullName, StringComparer.Ordinal))
            {
                var copy = target.CreateEntry(entry.FullName, CompressionLevel.Optimal);
                copy.LastWriteTime = EntryTime;
                using var from = entry.Open();
                using var to = copy.Open();
                from.CopyTo(to);
            }
        }

        return output.ToArray();
    }
}
