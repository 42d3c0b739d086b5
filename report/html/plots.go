package html

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/spoofsense/spoofsense/report/metrics"
)

// namedCurve is one line of the DET and ROC plots.
type namedCurve struct {
	name  string
	curve metrics.Curve
}

// Plot colours beyond plotutil's palette.
var (
	thresholdColor = color.RGBA{R: 0xc0, A: 0xff}
	guideColor     = color.Gray{Y: 0xa0}
	bonaFideColor  = color.RGBA{R: 0x2c, G: 0x7b, B: 0xb6, A: 0xff}
	attackColor    = color.RGBA{R: 0xd7, G: 0x19, B: 0x1c, A: 0xff}
)

// probit is the standard normal quantile: the normal deviate of probability p.
func probit(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}

// detTicks are the candidate tick values of the DET axes, as error rates.
var detTicks = []float64{0.0001, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95}

// percentLabel formats an error rate as a tick label: "0.1%", "5%", "40%".
func percentLabel(p float64) string {
	return strconv.FormatFloat(100*p, 'f', -1, 64) + "%"
}

// detRange returns the lowest and highest error rate the DET axes show: down to one error in
// the larger class (the smallest non-zero rate the data can give), at least 0.01% and at most
// 0.1%, up to 95%. Zero rates are drawn on the lower edge.
func detRange(nBonaFide, nAttack int) (lo, hi float64) {
	n := max(nBonaFide, nAttack, 1)
	lo = min(max(1/float64(n), 0.0001), 0.001)
	return lo, 0.95
}

// detPlot draws the DET curve: BPCER against APCER on normal-deviate (probit) axes, labelled
// in percent, with the EER point, the operating point at the threshold and the APCER = BPCER
// diagonal. Rates outside the axes are drawn on their edge.
func detPlot(curves []namedCurve, rep metrics.Report, lo, hi float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "DET curve"
	p.X.Label.Text = "APCER (attacks accepted)"
	p.Y.Label.Text = "BPCER (bona fide rejected)"
	pmin, pmax := probit(lo), probit(hi)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = pmin, pmax, pmin, pmax
	var ticks []plot.Tick
	for _, t := range detTicks {
		if t >= lo && t <= hi {
			ticks = append(ticks, plot.Tick{Value: probit(t), Label: percentLabel(t)})
		}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Add(plotter.NewGrid())
	clamp := func(r float64) float64 { return probit(min(max(r, lo), hi)) }

	diag, err := plotter.NewLine(plotter.XYs{{X: pmin, Y: pmin}, {X: pmax, Y: pmax}})
	if err != nil {
		return nil, err
	}
	diag.Color, diag.Dashes = guideColor, []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(diag)
	for i, c := range curves {
		xys := make(plotter.XYs, len(c.curve))
		for j, pt := range c.curve {
			xys[j] = plotter.XY{X: clamp(pt.APCER), Y: clamp(pt.BPCER)}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("DET %s: %w", c.name, err)
		}
		line.Color, line.Width = plotutil.Color(i), vg.Points(1.5)
		if i > 0 {
			line.Width = vg.Points(1)
		}
		p.Add(line)
		p.Legend.Add(c.name, line)
	}
	if rep.EER.Valid {
		if err := addPoint(p, fmt.Sprintf("EER %.1f%%", 100*rep.EER.Float64), clamp(rep.EER.Float64), clamp(rep.EER.Float64),
			draw.RingGlyph{}, color.Black); err != nil {
			return nil, err
		}
	}
	if rep.APCERPooled.Value.Valid && rep.BPCER.Value.Valid {
		if err := addPoint(p, fmt.Sprintf("threshold %g", rep.Threshold),
			clamp(rep.APCERPooled.Value.Float64), clamp(rep.BPCER.Value.Float64), draw.BoxGlyph{}, thresholdColor); err != nil {
			return nil, err
		}
	}
	// The curve runs from the top left to the bottom right: the bottom left corner is free.
	p.Legend.Top, p.Legend.Left = false, true
	return p, nil
}

// rocPlot draws the ROC curve: bona fide acceptance (1 − BPCER) against APCER.
func rocPlot(curves []namedCurve, rep metrics.Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "ROC curve"
	p.X.Label.Text = "APCER (attacks accepted)"
	p.Y.Label.Text = "1 − BPCER (bona fide accepted)"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Add(plotter.NewGrid())
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil, err
	}
	diag.Color, diag.Dashes = guideColor, []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(diag)
	for i, c := range curves {
		xys := make(plotter.XYs, len(c.curve))
		for j, pt := range c.curve {
			xys[j] = plotter.XY{X: pt.APCER, Y: 1 - pt.BPCER}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("ROC %s: %w", c.name, err)
		}
		line.Color, line.Width = plotutil.Color(i), vg.Points(1.5)
		if i > 0 {
			line.Width = vg.Points(1)
		}
		p.Add(line)
		name := c.name
		if i == 0 && rep.AUC.Valid {
			name = fmt.Sprintf("%s (AUC %.4f)", c.name, rep.AUC.Float64)
		} else if sp, ok := rep.Species[c.name]; ok && sp.AUC.Valid {
			name = fmt.Sprintf("%s (AUC %.4f)", c.name, sp.AUC.Float64)
		}
		p.Legend.Add(name, line)
	}
	if rep.APCERPooled.Value.Valid && rep.BPCER.Value.Valid {
		if err := addPoint(p, fmt.Sprintf("threshold %g", rep.Threshold),
			rep.APCERPooled.Value.Float64, 1-rep.BPCER.Value.Float64, draw.BoxGlyph{}, thresholdColor); err != nil {
			return nil, err
		}
	}
	p.Legend.Left = false
	p.Legend.Top = false
	return p, nil
}

// addPoint marks one point with a glyph and a legend entry.
func addPoint(p *plot.Plot, name string, x, y float64, shape draw.GlyphDrawer, c color.Color) error {
	s, err := plotter.NewScatter(plotter.XYs{{X: x, Y: y}})
	if err != nil {
		return err
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(4), Shape: shape}
	p.Add(s)
	p.Legend.Add(name, s)
	return nil
}

// histBins is the number of bins of a score histogram.
const histBins = 40

// histPlot draws the histogram of one class's scores over [0, 1] (wider when a score lies
// outside) with the threshold marked by a dashed line.
func histPlot(title string, scores []float64, threshold float64, fill color.Color) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "prob_real"
	p.Y.Label.Text = "presentations"
	bins := scoreBins(scores)
	lo, hi := bins[0].Min, bins[len(bins)-1].Max
	top := 0.0
	for _, b := range bins {
		top = max(top, b.Weight)
	}
	h := &plotter.Histogram{Bins: bins, Width: bins[0].Max - bins[0].Min, FillColor: fill}
	h.LineStyle = draw.LineStyle{Color: color.White, Width: vg.Points(0.5)}
	p.Add(h)
	line, err := plotter.NewLine(plotter.XYs{{X: threshold, Y: 0}, {X: threshold, Y: max(top, 1)}})
	if err != nil {
		return nil, err
	}
	line.Color, line.Width = thresholdColor, vg.Points(1.5)
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	p.Add(line)
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min = 0
	return p, nil
}

// scoreBins counts scores in histBins equal bins over [0, 1], or over a wider range when a
// score lies outside it. A score on the upper edge falls in the last bin.
func scoreBins(scores []float64) []plotter.HistogramBin {
	lo, hi := 0.0, 1.0
	for _, s := range scores {
		lo, hi = min(lo, s), max(hi, s)
	}
	width := (hi - lo) / histBins
	bins := make([]plotter.HistogramBin, histBins)
	for i := range bins {
		bins[i] = plotter.HistogramBin{Min: lo + float64(i)*width, Max: lo + float64(i+1)*width}
	}
	for _, s := range scores {
		bins[min(int((s-lo)/width), histBins-1)].Weight++
	}
	return bins
}

// savePlot writes p to a file in the format its extension names (".svg" for the report).
func savePlot(p *plot.Plot, w, h vg.Length, name string) error {
	wt, err := p.WriterTo(w, h, strings.TrimPrefix(filepath.Ext(name), "."))
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := wt.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	return nil
}
