using System.Globalization;
using System.Net;
using System.Text;
using LstmSimd.IO;

namespace LstmSimd.Cli.Plotting;

/// <summary>
/// A line chart: axes with round-number ticks, axis labels, a title, a legend, shaded x ranges and point markers;
/// filled bands between two lines (prediction intervals); NaN values break a line or band. Saved as a standalone SVG file (written here) or, for a name ending in .png, a PNG image
/// drawn by ScottPlot (LinePlot.Png.cs).
/// </summary>
internal sealed partial class LinePlot(string title, string xLabel, string yLabel)
{
    private sealed record Series(string Name, double[] X, double[] Y, string Color, bool Dashed, bool Markers, double[]? Lower = null);

    private sealed record Band(double From, double To, string Label, string Color);

    private readonly List<Series> _series = [];
    private readonly List<Band> _bands = [];

    public LinePlot Line(string name, IEnumerable<double> x, IEnumerable<double> y, string color, bool dashed = false)
    {
        _series.Add(new Series(name, [.. x], [.. y], color, dashed, Markers: false));
        return this;
    }

    public LinePlot Points(string name, IEnumerable<double> x, IEnumerable<double> y, string color)
    {
        _series.Add(new Series(name, [.. x], [.. y], color, Dashed: false, Markers: true));
        return this;
    }

    /// <summary>The area between <paramref name="lower"/> and <paramref name="upper"/> filled, broken where either is NaN; drawn under the lines.</summary>
    public LinePlot Fill(string name, IEnumerable<double> x, IEnumerable<double> lower, IEnumerable<double> upper, string color)
    {
        var fill = new Series(name, [.. x], [.. upper], color, Dashed: false, Markers: false, [.. lower]);
        if (fill.Lower!.Length != fill.X.Length || fill.Y.Length != fill.X.Length) throw new ArgumentException("A band needs as many lower and upper values as x values.");
        _series.Insert(_series.Count(s => s.Lower is not null), fill);
        return this;
    }

    public LinePlot Shade(double from, double to, string label, string color)
    {
        _bands.Add(new Band(from, to, label, color));
        return this;
    }

    /// <summary>Writes the plot atomically: a PNG image when <paramref name="path"/> ends in .png (any case), else SVG.</summary>
    public void Save(string path)
    {
        if (path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            byte[] png = RenderPng();
            AtomicFile.Write(path, stream => stream.Write(png));
        }
        else
        {
            AtomicFile.WriteAllText(path, Render());
        }
    }

    public string Render(int width = 1200, int height = 600)
    {
        // The legend sits right of the data, so it never covers a line: the plot area gives up its width.
        const double left = 80, top = 50, bottom = 65, rowH = 20;
        double legendW = 46 + 7.2 * _series.Max(s => s.Name.Length), right = legendW + 30;
        double plotW = width - left - right, plotH = height - top - bottom;
        (double xMin, double xMax) = Range(_series.SelectMany(s => s.X).Concat(_bands.SelectMany(b => new[] { b.From, b.To })));
        (double yMin, double yMax) = Range(_series.SelectMany(s => s.Lower is null ? s.Y : s.Y.Concat(s.Lower)));
        double[] xTicks = Ticks(xMin, xMax, 10), yTicks = Ticks(yMin, yMax, 8);
        double yPad = (yMax - yMin) * 0.04;
        yMin -= yPad;
        yMax += yPad;
        double Px(double x) => left + (x - xMin) / (xMax - xMin) * plotW;
        double Py(double y) => top + (1 - (y - yMin) / (yMax - yMin)) * plotH;

        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="13">""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<rect width="{width}" height="{height}" fill="white"/>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{width / 2}" y="28" text-anchor="middle" font-size="17" font-weight="bold">{Escape(title)}</text>""");
        foreach (Band band in _bands)
        {
            double x0 = Px(Math.Max(band.From, xMin)), x1 = Px(Math.Min(band.To, xMax));
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{F(x0)}" y="{F(top)}" width="{F(x1 - x0)}" height="{F(plotH)}" fill="{band.Color}" fill-opacity="0.12"/>""");
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{F(x0 + 6)}" y="{F(top + 16)}" fill="#555">{Escape(band.Label)}</text>""");
        }

        foreach (double t in yTicks)
        {
            if (t < yMin || t > yMax) continue;
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{F(left)}" x2="{F(left + plotW)}" y1="{F(Py(t))}" y2="{F(Py(t))}" stroke="#e3e3e3"/>""");
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{F(left - 8)}" y="{F(Py(t) + 4)}" text-anchor="end">{Label(t, yTicks)}</text>""");
        }

        foreach (double t in xTicks)
        {
            if (t < xMin || t > xMax) continue;
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{F(Px(t))}" x2="{F(Px(t))}" y1="{F(top + plotH)}" y2="{F(top + plotH + 5)}" stroke="#333"/>""");
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{F(Px(t))}" y="{F(top + plotH + 20)}" text-anchor="middle">{Label(t, xTicks)}</text>""");
        }

        svg.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{F(left)}" y="{F(top)}" width="{F(plotW)}" height="{F(plotH)}" fill="none" stroke="#333"/>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{F(left + plotW / 2)}" y="{height - 18}" text-anchor="middle">{Escape(xLabel)}</text>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text transform="translate(22 {F(top + plotH / 2)}) rotate(-90)" text-anchor="middle">{Escape(yLabel)}</text>""");

        svg.AppendLine(CultureInfo.InvariantCulture, $"""<clipPath id="plot"><rect x="{F(left)}" y="{F(top)}" width="{F(plotW)}" height="{F(plotH)}"/></clipPath>""");
        svg.AppendLine("""<g clip-path="url(#plot)">""");
        foreach (Series s in _series)
        {
            if (s.Lower is { } lower)
            {
                foreach ((int start, int end) in FiniteRuns(s))
                {
                    var area = new StringBuilder();
                    for (int i = start; i < end; i++) area.Append(CultureInfo.InvariantCulture, $"{(i == start ? 'M' : 'L')}{F(Px(s.X[i]))},{F(Py(s.Y[i]))} ");
                    for (int i = end - 1; i >= start; i--) area.Append(CultureInfo.InvariantCulture, $"L{F(Px(s.X[i]))},{F(Py(lower[i]))} ");
                    svg.AppendLine(CultureInfo.InvariantCulture, $"""<path d="{area.Append('Z')}" fill="{s.Color}" fill-opacity="0.3" stroke="none"/>""");
                }

                continue;
            }

            if (s.Markers)
            {
                for (int i = 0; i < s.X.Length; i++)
                    if (double.IsFinite(s.Y[i]))
                        svg.AppendLine(CultureInfo.InvariantCulture, $"""<circle cx="{F(Px(s.X[i]))}" cy="{F(Py(s.Y[i]))}" r="6" fill="none" stroke="{s.Color}" stroke-width="2.2"/>""");
                continue;
            }

            var path = new StringBuilder();
            bool pen = false;
            for (int i = 0; i < s.X.Length; i++)
            {
                if (!double.IsFinite(s.Y[i])) { pen = false; continue; }
                path.Append(CultureInfo.InvariantCulture, $"{(pen ? 'L' : 'M')}{F(Px(s.X[i]))},{F(Py(s.Y[i]))} ");
                pen = true;
            }

            svg.AppendLine(CultureInfo.InvariantCulture, $"""<path d="{path.ToString().TrimEnd()}" fill="none" stroke="{s.Color}" stroke-width="1.8"{(s.Dashed ? " stroke-dasharray=\"6 4\"" : "")} stroke-linejoin="round"/>""");
        }

        svg.AppendLine("</g>");

        double lx = left + plotW + 15, ly = top;
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{F(lx)}" y="{F(ly)}" width="{F(legendW)}" height="{F(rowH * _series.Count + 8)}" fill="white" fill-opacity="0.9" stroke="#bbb"/>""");
        for (int i = 0; i < _series.Count; i++)
        {
            Series s = _series[i];
            double y = ly + 14 + i * rowH;
            if (s.Lower is not null)
                svg.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{F(lx + 6)}" y="{F(y - 6)}" width="24" height="12" fill="{s.Color}" fill-opacity="0.3"/>""");
            else if (s.Markers)
                svg.AppendLine(CultureInfo.InvariantCulture, $"""<circle cx="{F(lx + 18)}" cy="{F(y)}" r="5" fill="none" stroke="{s.Color}" stroke-width="2.2"/>""");
            else
                svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{F(lx + 6)}" x2="{F(lx + 30)}" y1="{F(y)}" y2="{F(y)}" stroke="{s.Color}" stroke-width="2.5"{(s.Dashed ? " stroke-dasharray=\"6 4\"" : "")}/>""");
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{F(lx + 38)}" y="{F(y + 4)}">{Escape(s.Name)}</text>""");
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    /// <summary>The series cut at its NaN values (a band's, in either bound) into runs [start, end) of finite points, so a gap stays a gap.</summary>
    private static IEnumerable<(int Start, int End)> FiniteRuns(Series s)
    {
        int start = 0;
        for (int i = 0; i <= s.Y.Length; i++)
        {
            if (i < s.Y.Length && double.IsFinite(s.Y[i]) && (s.Lower is null || double.IsFinite(s.Lower[i]))) continue;
            if (i > start) yield return (start, i);
            start = i + 1;
        }
    }

    /// <summary>Round-number ticks (1, 2 or 5 × 10ⁿ apart) covering [min, max].</summary>
    internal static double[] Ticks(double min, double max, int target)
    {
        double raw = (max - min) / target, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = magnitude * (raw / magnitude) switch { < 1.5 => 1, < 3 => 2, < 7 => 5, _ => 10 };
        var ticks = new List<double>();
        for (double t = Math.Ceiling(min / step) * step; t <= max + step * 1e-9; t += step) ticks.Add(Math.Round(t / step) * step);
        return [.. ticks];
    }

    private static (double Min, double Max) Range(IEnumerable<double> values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        if (!double.IsFinite(min)) return (0, 1);
        if (max - min < 1e-12) return (min - 1, max + 1);
        return (min, max);
    }

    private static string Label(double value, double[] ticks)
    {
        double step = ticks.Length > 1 ? ticks[1] - ticks[0] : 1;
        int decimals = Math.Max(0, (int)-Math.Floor(Math.Log10(step) + 1e-9));
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
