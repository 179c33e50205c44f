using ScottPlot;

namespace LstmSimd.Cli.Plotting;

/// <summary>The PNG rendering of a <see cref="LinePlot"/>, drawn by ScottPlot (SkiaSharp, headless).</summary>
internal sealed partial class LinePlot
{
    /// <summary>The plot as PNG bytes: the same series, bands, labels and colours as the SVG, the legend outside the data, on the right.</summary>
    public byte[] RenderPng(int width = 1200, int height = 600)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        foreach (Band band in _bands)
        {
            var span = plot.Add.HorizontalSpan(band.From, band.To);
            span.FillStyle.Color = Color.FromHex(band.Color).WithAlpha(0.12);
            span.LineStyle.Width = 0;
            span.LegendText = band.Label;
        }

        foreach (Series s in _series)
        {
            Color color = Color.FromHex(s.Color);
            bool first = true;
            foreach ((int start, int end) in FiniteRuns(s))
            {
                double[] x = s.X[start..end], y = s.Y[start..end];
                if (s.Lower is { } lower)
                {
                    var fill = plot.Add.FillY(x, lower[start..end], y);
                    fill.FillStyle.Color = color.WithAlpha(0.3);
                    fill.LineStyle.Width = 0;
                    if (first) fill.LegendText = s.Name;
                }
                else if (s.Markers)
                {
                    var markers = plot.Add.Markers(x, y, MarkerShape.OpenCircle, 12, color);
                    markers.MarkerLineWidth = 2.2f;
                    if (first) markers.LegendText = s.Name;
                }
                else
                {
                    var line = plot.Add.ScatterLine(x, y, color);
                    line.LineWidth = 1.8f;
                    if (s.Dashed) line.LinePattern = LinePattern.Dashed;
                    if (first) line.LegendText = s.Name;
                }

                first = false;
            }
        }

        // Plain numbers on the axes: the default format groups thousands, which turns years into "2,010".
        static string Plain(double value) => Math.Round(value, 9).ToString(System.Globalization.CultureInfo.InvariantCulture);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Plain };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Plain };
        plot.ShowLegend(Edge.Right);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

}
