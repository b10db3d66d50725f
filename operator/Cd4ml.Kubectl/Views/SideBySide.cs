using Cd4ml.Operator.Training;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cd4ml.Kubectl.Views;

/// <summary>One column of a comparison: a ModelVersion or a TrainingRun, reduced to what is compared.</summary>
public sealed record ComparedItem(
    string Name,
    IReadOnlyDictionary<string, string> Info,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyDictionary<string, string> Dataset);

/// <summary>
/// One row of a comparison. <see cref="Differs"/> when the columns do not all agree; <see cref="Best"/> holds the
/// columns with the best value of a metric whose direction is known (rmse lower, r2 higher) and that differs.
/// </summary>
public sealed record ComparisonRow(string Section, string Key, IReadOnlyList<string?> Values, bool Differs, IReadOnlySet<int> Best);

/// <summary>Experiments side by side (columns = versions or runs), differences marked ≠ and best metrics ★.</summary>
public static class SideBySide
{
    public const string DifferentMark = "≠";
    public const string BestMark = "★";

    public static IReadOnlyList<ComparisonRow> Rows(IReadOnlyList<ComparedItem> items)
    {
        var rows = new List<ComparisonRow>();
        rows.AddRange(TextRows("summary", items, i => i.Info));
        var metricNames = items.SelectMany(i => i.Metrics.Keys).Distinct()
            .OrderBy(Format.MetricOrder).ThenBy(k => k, StringComparer.Ordinal).ToList();
        foreach (var name in metricNames)
        {
            var values = items.Select(i => i.Metrics.TryGetValue(name, out var v) ? v : (double?)null).ToList();
            var section = name.StartsWith("slice.", StringComparison.Ordinal) ? "slice metrics" : "metrics";
            var key = section == "slice metrics" ? name["slice.".Length..] : name;
            var differs = values.Distinct().Count() > 1;
            rows.Add(new ComparisonRow(section, key, values.Select(v => v is { } x ? Format.Number(x) : null).ToList(),
                differs, differs ? BestOf(name, values) : new HashSet<int>()));
        }

        rows.AddRange(TextRows("parameters", items, i => i.Parameters));
        rows.AddRange(TextRows("dataset", items, i => i.Dataset));
        return rows;
    }

    public static IRenderable Render(IReadOnlyList<ComparedItem> items)
    {
        var table = new Table().Border(TableBorder.Simple);
        table.AddColumn(new TableColumn(""));
        table.AddColumn(new TableColumn("[bold]field[/]"));
        foreach (var item in items)
        {
            table.AddColumn(new TableColumn(Format.Name(item.Name)).RightAligned());
        }

        string? section = null;
        foreach (var row in Rows(items))
        {
            if (row.Section != section)
            {
                section = row.Section;
                table.AddRow([new Markup(""), new Markup($"[underline]{Format.Escape(section)}[/]"), .. items.Select(_ => new Markup(""))]);
            }

            var cells = new List<IRenderable>
            {
                new Markup(row.Differs ? $"[yellow]{DifferentMark}[/]" : ""),
                new Markup(Format.Escape(row.Key)),
            };
            for (var column = 0; column < row.Values.Count; column++)
            {
                cells.Add(new Markup(Cell(row, column)));
            }

            table.AddRow(cells);
        }

        return table;
    }

    private static string Cell(ComparisonRow row, int column)
    {
        var value = row.Values[column];
        if (value is null)
        {
            return Format.Dim("—");
        }

        if (row.Best.Contains(column))
        {
            return $"[bold green]{Format.Escape(value)} {BestMark}[/]";
        }

        return row.Differs && row.Section is not ("metrics" or "slice metrics") ? $"[yellow]{Format.Escape(value)}[/]" : Format.Escape(value);
    }

    private static IEnumerable<ComparisonRow> TextRows(string section, IReadOnlyList<ComparedItem> items,
        Func<ComparedItem, IReadOnlyDictionary<string, string>> fields)
    {
        var keys = items.SelectMany(i => fields(i).Keys).Distinct().ToList();
        if (section != "summary")
        {
            keys.Sort(StringComparer.Ordinal);
        }

        foreach (var key in keys)
        {
            var values = items.Select(i => fields(i).TryGetValue(key, out var v) ? v : null).ToList();
            yield return new ComparisonRow(section, key, values, values.Distinct().Count() > 1, new HashSet<int>());
        }
    }

    private static HashSet<int> BestOf(string metric, IReadOnlyList<double?> values)
    {
        if (QualityGates.IsHigherBetter(metric) is not { } higherIsBetter || values.All(v => v is null))
        {
            return [];
        }

        var present = values.Where(v => v is not null).Select(v => v!.Value).ToList();
        var best = higherIsBetter ? present.Max() : present.Min();
        return Enumerable.Range(0, values.Count).Where(i => values[i] == best).ToHashSet();
    }
}
