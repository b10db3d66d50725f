using System.Globalization;
using System.Text;
using Cd4ml.Artifacts;
using Cd4ml.Testing;
using Cd4ml.Training.Datasets;

namespace Cd4ml.Training.Tests;

/// <summary>Uploads datasets to the shared s3rver and runs the trainer against them.</summary>
internal static class TrainingHarness
{
    public static async Task<(S3Server Server, S3Location Bucket)> BucketAsync()
    {
        var server = await S3Server.SharedAsync();
        return (server, await server.CreateUniqueBucketAsync("train"));
    }

    public static async Task<TrainingSettings> UploadRetailAsync(S3Server server, S3Location bucket, RetailDatasetOptions options,
        string name = "retail.csv")
    {
        var dataset = bucket.Combine($"datasets/{name}");
        await server.Store.PutBytesAsync(dataset, RetailDatasetGenerator.GenerateCsv(options));
        return RetailDatasetGenerator.TrainingPreset(dataset, bucket.Combine($"runs/{Guid.NewGuid():N}/"), server.Settings);
    }

    public static async Task<TrainingSettings> UploadCsvAsync(S3Server server, S3Location bucket, string csv, Func<S3Location, S3Location, TrainingSettings> settings)
    {
        var dataset = bucket.Combine($"datasets/{Guid.NewGuid():N}.csv");
        await server.Store.PutBytesAsync(dataset, Encoding.UTF8.GetBytes(csv));
        return settings(dataset, bucket.Combine($"runs/{Guid.NewGuid():N}/")) with { S3 = server.Settings };
    }

    public static Task<TrainingResult> TrainAsync(S3Server server, TrainingSettings settings) =>
        new ModelTrainer(server.Store, TextWriter.Null).RunAsync(settings);

    /// <summary>Two numeric features and a category; binary label = x1 + x2 > 1 (with 5% flipped), class = band of x1.</summary>
    public static string ClassificationCsv(int rows, int seed)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("x1,x2,color,positive,band\n");
        string[] colors = ["red", "green", "blue"];
        for (var i = 0; i < rows; i++)
        {
            var x1 = random.NextDouble();
            var x2 = random.NextDouble();
            var positive = (x1 + x2 > 1) ^ (random.NextDouble() < 0.05);
            var band = x1 < 0.33 ? "low" : x1 < 0.66 ? "mid" : "high";
            csv.Append(CultureInfo.InvariantCulture, $"{x1:F4},{x2:F4},{colors[random.Next(3)]},{(positive ? "true" : "false")},{band}\n");
        }

        return csv.ToString();
    }

    public static readonly IReadOnlyList<ColumnDefinition> ClassificationSchema =
    [
        new("x1", ColumnType.Number, Min: 0, Max: 1),
        new("x2", ColumnType.Number, Min: 0, Max: 1),
        new("color", ColumnType.String),
        new("positive", ColumnType.Boolean),
        new("band", ColumnType.String),
    ];
}
