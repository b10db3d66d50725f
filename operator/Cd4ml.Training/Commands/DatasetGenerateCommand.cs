using Cd4ml.Artifacts;
using Cd4ml.Training.Datasets;

namespace Cd4ml.Training;

/// <summary><c>cd4ml dataset generate</c>: writes the synthetic retail dataset to a file or an s3:// URI.</summary>
public static class DatasetGenerateCommand
{
    /// <param name="destination">A file path, or an s3:// URI (S3 settings then come from <paramref name="environment"/>).</param>
    /// <param name="driftedStore">Optional store whose sales are erratic, to exercise slice metrics.</param>
    public static async Task<int> RunAsync(int rows, int seed, string destination, int? driftedStore,
        IReadOnlyDictionary<string, string?> environment, TextWriter output, CancellationToken ct)
    {
        var content = RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = rows, Seed = seed, DriftedStore = driftedStore });
        if (destination.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            var location = S3Location.Parse(destination);
            using var client = S3Settings.FromEnvironment(environment).CreateClient();
            await new ArtifactStore(client).PutBytesAsync(location, content, "text/csv", ct);
        }
        else
        {
            await File.WriteAllBytesAsync(destination, content, ct);
        }

        output.WriteLine($"Wrote {rows} rows to {destination} ({ContentDigest.Sha256Digest(content)}).");
        return 0;
    }
}
