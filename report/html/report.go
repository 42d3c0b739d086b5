// Package html writes the HTML report of `spoofsense eval`: one index.html with the metrics
// tables, a DET curve on normal-deviate axes, a ROC curve, score histograms per class with the
// threshold marked (SVG files drawn with gonum.org/v1/plot), and JPEG thumbnails of the worst
// misclassified images. The page works offline and from any place the directory is copied
// to: it has no scripts, no external styles or fonts, and links only to files it wrote itself,
// by relative paths. Original images are never linked, only their thumbnails.
package html

import (
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot/vg"

	"github.com/spoofsense/spoofsense/report/metrics"
)

// Page is what the report shows.
type Page struct {
	Title string
	// Report holds the metrics; its Curve is plotted (a nil Curve leaves the DET and ROC plots
	// out).
	Report metrics.Report
	// Scores are the scores of the scored presentations, for the histograms and the
	// per-species curves.
	Scores Scores
	Gates  []metrics.GateResult
	// Baseline is the comparison with BaselineFile; nil when there was none.
	Baseline     []metrics.Diff
	BaselineFile string
	TargetAPCER  float64
	Recommended  *metrics.OperatingPoint
	// Worst are the misclassified images to show, in order.
	Worst []Example
	// Notes are lines shown under the title (dataset size, score file…).
	Notes []string
}

// Scores are the scores of one evaluation by class.
type Scores struct {
	BonaFide []float64
	Attack   map[string][]float64 // by PAI species
}

// Example is one image shown as a thumbnail.
type Example struct {
	// Name is shown as the caption (a path relative to the dataset root).
	Name string
	// Path is the image file the thumbnail is made from. It is read, never linked.
	Path    string
	Label   metrics.Label
	Species string
	Score   float64
}

// File names inside the report directory.
const (
	IndexFile = "index.html"
	DETFile   = "det.svg"
	ROCFile   = "roc.svg"
	ThumbsDir = "thumbs"
)

//go:embed index.html.tmpl
var indexTemplate string

// view is the template's data: the page plus the files written for it.
type view struct {
	Page
	Species    []string // species in name order
	DET, ROC   string   // plot files, "" when not drawn
	Histograms []histView
	Thumbs     []thumbView
}

type histView struct {
	Title, File string
}

type thumbView struct {
	Example
	File  string // relative path of the thumbnail; "" when it could not be made
	Error string // why there is no thumbnail
}

// Write writes the report into dir, creating it: index.html, the plots beside it and the
// thumbnails in dir/thumbs. Existing files of the same names are replaced.
func Write(ctx context.Context, dir string, page Page) error {
	if err := os.MkdirAll(filepath.Join(dir, ThumbsDir), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	v := view{Page: page}
	for name := range page.Report.Species {
		v.Species = append(v.Species, name)
	}
	slices.Sort(v.Species)

	const inch = vg.Inch
	if page.Report.Curve != nil {
		curves := []namedCurve{{name: "all attacks", curve: page.Report.Curve}}
		for _, s := range v.Species {
			if len(page.Scores.Attack[s]) == 0 || len(v.Species) < 2 {
				continue
			}
			c, err := metrics.NewCurve(page.Scores.BonaFide, page.Scores.Attack[s])
			if err != nil {
				return fmt.Errorf("report: curve %s: %w", s, err)
			}
			curves = append(curves, namedCurve{name: s, curve: c})
		}
		lo, hi := detRange(page.Report.Counts.BonaFide.Scored(), page.Report.Counts.Attack.Scored())
		det, err := detPlot(curves, page.Report, lo, hi)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if err := savePlot(det, 6*inch, 6*inch, filepath.Join(dir, DETFile)); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		roc, err := rocPlot(curves, page.Report)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if err := savePlot(roc, 6*inch, 6*inch, filepath.Join(dir, ROCFile)); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		v.DET, v.ROC = DETFile, ROCFile
	}
	type class struct {
		title  string
		scores []float64
		fill   color.Color
	}
	classes := []class{{"bona fide (live)", page.Scores.BonaFide, bonaFideColor}}
	for _, s := range v.Species {
		classes = append(classes, class{"attack: " + s, page.Scores.Attack[s], attackColor})
	}
	for i, c := range classes {
		if err := ctx.Err(); err != nil {
			return err
		}
		file := "hist-bona-fide.svg"
		if i > 0 {
			file = "hist-attack-" + strconv.Itoa(i) + ".svg"
		}
		p, err := histPlot(fmt.Sprintf("%s: %d scored (dashed: threshold %g)", c.title, len(c.scores), page.Report.Threshold), c.scores, page.Report.Threshold, c.fill)
		if err != nil {
			return fmt.Errorf("report: histogram %s: %w", c.title, err)
		}
		if err := savePlot(p, 6*inch, 2.5*inch, filepath.Join(dir, file)); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		v.Histograms = append(v.Histograms, histView{Title: c.title, File: file})
	}
	for i, ex := range page.Worst {
		if err := ctx.Err(); err != nil {
			return err
		}
		file := fmt.Sprintf("%s/%s-%03d.jpg", ThumbsDir, ex.Label, i+1)
		tv := thumbView{Example: ex, File: file}
		if err := writeThumbnail(ex.Path, filepath.Join(dir, filepath.FromSlash(file))); err != nil {
			tv.File, tv.Error = "", err.Error()
		}
		v.Thumbs = append(v.Thumbs, tv)
	}

	tmpl, err := template.New(IndexFile).Funcs(template.FuncMap{
		"pct":    pct,
		"num":    num,
		"ci":     ci,
		"rate":   func(x float64) string { return pct(metrics.Of(x)) },
		"mul100": func(x float64) float64 { return 100 * x },
	}).Parse(indexTemplate)
	if err != nil {
		return fmt.Errorf("report: template: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, IndexFile))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := tmpl.Execute(f, v); err != nil {
		f.Close()
		return fmt.Errorf("report: %s: %w", IndexFile, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// pct formats a rate as a percentage with two decimals, or "n/a".
func pct(v metrics.Value) string { return v.Percent() }

// num formats a score, threshold or AUC with four decimals, or "n/a".
func num(v metrics.Value) string { return v.Fixed(4) }

// ci formats a rate's confidence interval.
func ci(r metrics.Rate) string { return r.Interval() }
