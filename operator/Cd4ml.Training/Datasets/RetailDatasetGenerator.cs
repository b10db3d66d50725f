using System.Globalization;
using System.Text;
using Cd4ml.Artifacts;

namespace Cd4ml.Training.Datasets;

/// <summary>Shape of the synthetic retail dataset. <see cref="DriftedStore"/> makes one store's sales erratic (for bias tests).</summary>
public sealed record RetailDatasetOptions
{
    public int Rows { get; init; } = 5000;

    public int Seed { get; init; } = 42;

    public int Stores { get; init; } = 10;

    public int Items { get; init; } = 40;

    /// <summary>Rows per calendar day; rows / RowsPerDay is the number of days covered.</summary>
    public int RowsPerDay { get; init; } = 40;

    public DateOnly StartDate { get; init; } = new(2016, 1, 1);

    /// <summary>Share of rows that are returns (negative unit_sales).</summary>
    public double ReturnRate { get; init; } = 0.01;

    /// <summary>A store whose sales ignore weekday, season, holiday and promotion and are noisy instead.</summary>
    public int? DriftedStore { get; init; }
}

/// <summary>
/// A deterministic synthetic retail sales dataset in the spirit of the Favorita competition: stores in cities, items
/// in families (some perishable, sold by weight), weekly and yearly seasonality, holidays, promotion lift, and a few
/// returns recorded as negative unit_sales. The same options give a byte-identical CSV.
/// </summary>
public static class RetailDatasetGenerator
{
    public const string LabelColumn = "unit_sales";

    public static readonly IReadOnlyList<string> Columns =
        ["date", "store_nbr", "item_nbr", "family", "city", "onpromotion", "perishable", "holiday", "unit_sales"];

    public static readonly IReadOnlyList<ColumnDefinition> Schema =
    [
        new("date", ColumnType.Date),
        new("store_nbr", ColumnType.Integer, Min: 1),
        new("item_nbr", ColumnType.Integer, Min: 1),
        new("family", ColumnType.String),
        new("city", ColumnType.String),
        new("onpromotion", ColumnType.Boolean, Nullable: true),
        new("perishable", ColumnType.Integer, Min: 0, Max: 1),
        new("holiday", ColumnType.Integer, Min: 0, Max: 1),
        new(LabelColumn, ColumnType.Number, Min: 0),
    ];

    /// <summary>Returns (negative sales) are not demand: drop them before validation.</summary>
    public static readonly IReadOnlyList<RowFilter> Filters = [new(LabelColumn, Min: 0)];

    private static readonly string[] Cities = ["Quito", "Guayaquil", "Cuenca", "Ambato", "Manta"];
    private static readonly (string Name, bool Perishable)[] Families =
    [
        ("GROCERY I", false), ("BEVERAGES", false), ("CLEANING", false), ("PRODUCE", true),
        ("DAIRY", true), ("BREAD/BAKERY", true), ("MEATS", true), ("PERSONAL CARE", false),
    ];

    private static readonly double[] Weekday = [1.30, 0.90, 0.85, 0.90, 0.95, 1.10, 1.35]; // Sunday first
    private static readonly HashSet<(int Month, int Day)> NationalHolidays =
        [(1, 1), (2, 27), (2, 28), (4, 14), (5, 1), (5, 24), (8, 10), (10, 9), (11, 2), (11, 3), (12, 24), (12, 25), (12, 31)];
    private static readonly Dictionary<string, (int Month, int Day)> LocalHolidays = new()
    {
        ["Quito"] = (12, 6), ["Guayaquil"] = (7, 25), ["Cuenca"] = (4, 12), ["Ambato"] = (2, 12), ["Manta"] = (11, 4),
    };

    /// <summary>The preset that makes <c>cd4ml train</c> work on this dataset: regression on unit_sales with a time split.</summary>
    public static TrainingSettings TrainingPreset(S3Location dataset, S3Location output, S3Settings? s3 = null) => new()
    {
        DatasetUri = dataset,
        OutputUri = output.AsPrefix(),
        Task = MlTask.Regression,
        Algorithm = AlgorithmCatalog.DefaultFor(MlTask.Regression),
        LabelColumn = LabelColumn,
        Schema = Schema,
        Filters = Filters,
        Split = new SplitSettings(SplitMethod.Time, 0.2, 42, "date"),
        SliceColumns = ["store_nbr", "family"],
        WeightColumn = "perishable",
        S3 = s3 ?? new S3Settings(),
    };

    public static byte[] GenerateCsv(RetailDatasetOptions options) => Encoding.UTF8.GetBytes(Generate(options));

    public static string Generate(RetailDatasetOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.Rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Stores, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Items, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RowsPerDay, 1);

        var random = new Random(options.Seed);
        var stores = Enumerable.Range(1, options.Stores)
            .Select(n => (Number: n, City: Cities[(n - 1) % Cities.Length], Factor: 0.5 + random.NextDouble()))
            .ToArray();
        var items = Enumerable.Range(0, options.Items)
            .Select(i => (Number: 103520 + i * 37, Family: Families[i % Families.Length], Base: 2 + random.NextDouble() * 28))
            .ToArray();

        var csv = new StringBuilder();
        csv.Append(string.Join(',', Columns)).Append('\n');
        for (var row = 0; row < options.Rows; row++)
        {
            var date = options.StartDate.AddDays(row / options.RowsPerDay);
            var store = stores[random.Next(stores.Length)];
            var item = items[random.Next(items.Length)];
            var promotion = random.NextDouble() < 0.15;
            var holiday = NationalHolidays.Contains((date.Month, date.Day)) || LocalHolidays[store.City] == (date.Month, date.Day);
            var noise = Math.Exp(0.2 * Gaussian(random));
            var isReturn = random.NextDouble() < options.ReturnRate;

            double sales;
            if (options.DriftedStore == store.Number)
            {
                sales = item.Base * store.Factor * 4 * random.NextDouble();
            }
            else
            {
                var yearly = 1 + 0.15 * Math.Sin(2 * Math.PI * (date.DayOfYear - 80) / 365.25) + (date.Month == 12 ? 0.2 : 0);
                sales = item.Base * store.Factor * Weekday[(int)date.DayOfWeek] * yearly
                        * (holiday ? 1.3 : 1) * (promotion ? (item.Family.Perishable ? 1.2 : 1.5) : 1) * noise;
            }

            var unitSales = isReturn
                ? (-1 - random.Next(3)).ToString(CultureInfo.InvariantCulture)
                : item.Family.Perishable
                    ? Math.Round(sales, 3).ToString("0.###", CultureInfo.InvariantCulture) // sold by weight
                    : Math.Round(sales).ToString("0", CultureInfo.InvariantCulture);

            CsvTable.AppendRecord(csv,
            [
                date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                store.Number.ToString(CultureInfo.InvariantCulture),
                item.Number.ToString(CultureInfo.InvariantCulture),
                item.Family.Name,
                store.City,
                promotion ? "true" : "false",
                item.Family.Perishable ? "1" : "0",
                holiday ? "1" : "0",
                unitSales,
            ]);
        }

        return csv.ToString();
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
