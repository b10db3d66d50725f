using System.Globalization;
using System.Text;

namespace Cd4ml.Operator.Dashboard;

/// <summary>A plotted point; <see cref="Data"/> becomes data-* attributes so a browser test can read what was drawn.</summary>
public sealed record ChartPoint(double X, double Y, string Label, string Class = "point",
    IReadOnlyDictionary<string, string>? Data = null);

/// <summary>A horizontal line across the plot, such as a quality gate or an analysis threshold.</summary>
public sealed record ChartLine(double Y, string Label, string Class, IReadOnlyDictionary<string, string>? Data = null);

/// <summary>A vertical marker at one x, such as a rollback or a promotion.</summary>
public sealed record ChartMarker(double X, string Label, string Class, IReadOnlyDictionary<string, string>? Data = null);

/// <summary>What to draw: points joined in order (as steps when <see cref="Stepped"/>), lines, markers, tick labels.</summary>
public sealed record ChartSpec(string Id, string Title, string Description)
{
    public IReadOnlyList<ChartPoint> Points { get; init; } = [];
    public IReadOnlyList<ChartLine> Lines { get; init; } = [];
    public IReadOnlyList<ChartMarker> Markers { get; init; } = [];
    public bool Stepped { get; init; }
    public double? MinY { get; init; }
    public double? MaxY { get; init; }

    /// <summary>X ticks with their labels; none draws no x labels.</summary>
    public IReadOnlyList<(double X, string Label)> XTicks { get; init; } = [];
}

/// <summary>
/// Renders charts as inline SVG on the server: the page needs no script and no network, and every point carries its
/// values in data-* attributes.
/// </summary>
public static class SvgChart
{
    private const int Width = 640;
    private const int Height = 240;
    private const int Left = 64;
    private const int Right = 40;
    private const int Top = 16;
    private const int Bottom = 40;

    public static string Render(ChartSpec chart)
    {
        var xs = chart.Points.Select(p => p.X).Concat(chart.Markers.Select(m => m.X)).Concat(chart.XTicks.Select(t => t.X)).ToList();
        var ys = chart.Points.Select(p => p.Y).Concat(chart.Lines.Select(l => l.Y)).ToList();
        var (minX, maxX) = Range(xs, null, null);
        // Points at the first and last x stand clear of the axes.
        var padX = (maxX - minX) * 0.04;
        (minX, maxX) = (minX - padX, maxX + padX);
        var (minY, maxY) = Range(ys, chart.MinY, chart.MaxY);
        // A margin on each side left free, so points at the extremes and labels on gate lines stay visible; the free
        // ends then snap to round tick values.
        var pad = (maxY - minY) * 0.1;
        (minY, maxY) = (chart.MinY ?? minY - pad, chart.MaxY ?? maxY + pad);
        var tick = TickStep((maxY - minY) / 4);
        (minY, maxY) = (chart.MinY ?? Math.Floor(minY / tick) * tick, chart.MaxY ?? Math.Ceiling(maxY / tick) * tick);

        double PlotX(double x) => Left + (x - minX) / (maxX - minX) * (Width - Left - Right);
        double PlotY(double y) => Height - Bottom - (y - minY) / (maxY - minY) * (Height - Top - Bottom);

        var svg = new StringBuilder();
        svg.Append($"<svg id=\"{Html.Attr(chart.Id)}\" class=\"chart\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" ")
            .Append($"aria-labelledby=\"{Html.Attr(chart.Id)}-title {Html.Attr(chart.Id)}-desc\" data-min-y=\"{Num(minY)}\" data-max-y=\"{Num(maxY)}\">")
            .Append($"<title id=\"{Html.Attr(chart.Id)}-title\">{Html.Text(chart.Title)}</title>")
            .Append($"<desc id=\"{Html.Attr(chart.Id)}-desc\">{Html.Text(chart.Description)}</desc>");

        // Axes and y ticks.
        svg.Append($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\"/>")
            .Append($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\"/>");
        var ticks = (int)Math.Round((maxY - minY) / tick);
        for (var i = 0; i <= ticks; i++)
        {
            var y = minY + tick * i;
            svg.Append($"<line class=\"grid\" x1=\"{Left}\" y1=\"{Num(PlotY(y))}\" x2=\"{Width - Right}\" y2=\"{Num(PlotY(y))}\"/>")
                .Append($"<text class=\"tick\" x=\"{Left - 6}\" y=\"{Num(PlotY(y) + 4)}\" text-anchor=\"end\">{Html.Text(Short(y))}</text>");
        }

        foreach (var (x, label) in chart.XTicks)
        {
            svg.Append($"<text class=\"tick\" x=\"{Num(PlotX(x))}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{Html.Text(label)}</text>");
        }

        foreach (var line in chart.Lines)
        {
            var y = Num(PlotY(line.Y));
            svg.Append($"<g class=\"{Html.Attr(line.Class)}\" data-y=\"{Num(line.Y)}\"{DataAttributes(line.Data)}>")
                .Append($"<line x1=\"{Left}\" y1=\"{y}\" x2=\"{Width - Right}\" y2=\"{y}\"/>")
                .Append($"<text x=\"{Width - Right - 4}\" y=\"{Num(PlotY(line.Y) - 4)}\" text-anchor=\"end\">{Html.Text(line.Label)}</text></g>");
        }

        if (chart.Points.Count > 1)
        {
            var path = new StringBuilder();
            for (var i = 0; i < chart.Points.Count; i++)
            {
                var p = chart.Points[i];
                if (i == 0)
                {
                    path.Append($"M{Num(PlotX(p.X))},{Num(PlotY(p.Y))}");
                    continue;
                }

                if (chart.Stepped)
                {
                    path.Append($" H{Num(PlotX(p.X))}");
                }

                path.Append($" L{Num(PlotX(p.X))},{Num(PlotY(p.Y))}");
            }

            svg.Append($"<path class=\"series\" d=\"{path}\"/>");
        }

        foreach (var marker in chart.Markers)
        {
            var x = Num(PlotX(marker.X));
            svg.Append($"<g class=\"{Html.Attr(marker.Class)}\" data-x=\"{Num(marker.X)}\"{DataAttributes(marker.Data)}>")
                .Append($"<title>{Html.Text(marker.Label)}</title>")
                .Append($"<line x1=\"{x}\" y1=\"{Top}\" x2=\"{x}\" y2=\"{Height - Bottom}\"/>")
                .Append(Label(PlotX(marker.X), Top + 10, Truncate(marker.Label, 40))).Append("</g>");
        }

        foreach (var p in chart.Points)
        {
            svg.Append($"<circle class=\"{Html.Attr(p.Class)}\" cx=\"{Num(PlotX(p.X))}\" cy=\"{Num(PlotY(p.Y))}\" r=\"5\" ")
                .Append($"data-x=\"{Num(p.X)}\" data-y=\"{Num(p.Y)}\"{DataAttributes(p.Data)}><title>{Html.Text(p.Label)}</title></circle>");
        }

        return svg.Append("</svg>").ToString();
    }

    /// <summary>A marker's label; near an edge it grows inwards, beside its line, so it stays inside the chart.</summary>
    private static string Label(double x, double y, string text)
    {
        var (anchor, at) = x > Width * 0.7 ? ("end", x - 4) : x < Width * 0.3 ? ("start", x + 4) : ("middle", x);
        return $"<text x=\"{Num(at)}\" y=\"{Num(y)}\" text-anchor=\"{anchor}\">{Html.Text(text)}</text>";
    }

    /// <summary>The round step (1, 2, 2.5 or 5 times a power of ten) nearest above <paramref name="rough"/>.</summary>
    private static double TickStep(double rough)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        return new[] { 1, 2, 2.5, 5, 10 }.Select(f => f * power).First(step => step >= rough * 0.999);
    }

    private static (double Min, double Max) Range(IReadOnlyCollection<double> values, double? fixedMin, double? fixedMax)
    {
        var min = fixedMin ?? (values.Count > 0 ? values.Min() : 0);
        var max = fixedMax ?? (values.Count > 0 ? values.Max() : 1);
        if (max - min < 1e-12)
        {
            // One value (or all equal): centre it in a range of its own size.
            var half = Math.Abs(min) > 1e-12 ? Math.Abs(min) * 0.5 : 1;
            return (fixedMin ?? min - half, fixedMax ?? max + half);
        }

        return (min, max);
    }

    private static string DataAttributes(IReadOnlyDictionary<string, string>? data) =>
        data is null ? "" : string.Concat(data.Select(kv => $" data-{Html.Attr(kv.Key)}=\"{Html.Attr(kv.Value)}\""));

    /// <summary>Invariant round-trip text: what data-* attributes carry.</summary>
    public static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Short(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
