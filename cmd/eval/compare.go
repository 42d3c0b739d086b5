package eval

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter/tw"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/report/compare"
	"github.com/spoofsense/spoofsense/report/dataset"
	"github.com/spoofsense/spoofsense/report/grouping"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/report/scorefile"
	"github.com/spoofsense/spoofsense/scorer"
)

// compareRun scores (or reads) both sides of --compare, evaluates them on the same
// presentations and prints both columns and their difference.
func compareRun(ctx context.Context, opts *EvalOptions, ds *dataset.Dataset, info dataset.Info) error {
	saves := [2]string{}
	if opts.SaveScores != "" {
		a, b, ok := strings.Cut(opts.SaveScores, ",")
		if !ok || strings.Contains(b, ",") {
			return cmdutil.UsageError("--save-scores with --compare takes two files A,B (either may be empty), not %q", opts.SaveScores)
		}
		saves = [2]string{strings.TrimSpace(a), strings.TrimSpace(b)}
	}
	targets := evalTargets(opts.TargetAPCER)
	res := &compare.Result{Dataset: info, Threshold: opts.Threshold, TargetAPCER: opts.TargetAPCER}
	var samples [2][]metrics.Sample
	for k, side := range opts.Compare {
		results := make([]*scorer.Result, len(ds.Items))
		var scored, fromScores int
		if side.File != "" {
			var (
				unmatched int
				err       error
			)
			if results, unmatched, err = opts.loadScores(ctx, side.File, ds); err != nil {
				return err
			}
			if unmatched > 0 {
				opts.note("%d results in %s are for files outside the dataset; ignored", unmatched, side.File)
			}
			missing := 0
			for _, r := range results {
				if r == nil {
					missing++
				}
			}
			if missing > 0 {
				return cmdutil.UsageError("--compare: %d of %d images have no result in %s", missing, len(ds.Items), side.File)
			}
			fromScores = len(ds.Items)
		} else {
			n, err := opts.scoreMissing(ctx, ds, results, *side.Scorer, "")
			if err != nil {
				return err
			}
			scored = n
		}
		if saves[k] != "" {
			if err := scorefile.Write(saves[k], ds, results); err != nil {
				return cmdutil.CannotRun(err)
			}
		}
		sr, s, err := compare.Evaluate(side, ds, results, opts.Threshold, targets, opts.TargetAPCER)
		if err != nil {
			return cmdutil.UsageError("%v", err)
		}
		sr.Scored, sr.FromScores = scored, fromScores
		res.Sides[k], samples[k] = sr, s
	}
	res.Diffs = metrics.Compare(res.Sides[0].Report, res.Sides[1].Report, 0)
	if opts.GroupBy != "" {
		groups, err := groupBy(ds, opts.GroupBy)
		if err != nil {
			return err
		}
		if res.Groups, err = grouping.Evaluate(ds, opts.GroupBy, groups, samples[:], opts.Threshold, targets); err != nil {
			return cmdutil.UsageError("%v", err)
		}
	}
	return writeOutput(opts, res, func(w io.Writer) error { return writeCompareTable(w, res) })
}

// metricLabel names a metrics.Compare metric for the table.
func metricLabel(metric string) string {
	switch metric {
	case "auc":
		return "ROC AUC"
	case "eer":
		return "EER"
	case "apcer":
		return "APCER (worst species)"
	case "apcer_pooled":
		return "APCER pooled"
	case "bpcer":
		return "BPCER"
	case "acer":
		return "ACER (competition convention)"
	case "apnrr":
		return "APNRR (attack non-responses)"
	case "bpnrr":
		return "BPNRR (bona fide non-responses)"
	}
	if rest, ok := strings.CutPrefix(metric, "species."); ok {
		i := strings.LastIndexByte(rest, '.')
		if i > 0 {
			return "  " + strings.ToUpper(rest[i+1:]) + " " + rest[:i]
		}
	}
	return metric
}

// isScore says whether a metric is a score (AUC, printed as a number) rather than a rate.
func isScore(metric string) bool { return metric == "auc" || strings.HasSuffix(metric, ".auc") }

// diffRow renders one Diff: the two values, B − A, and which side is better.
func diffRow(d metrics.Diff) []string {
	format, change := pct, pctDelta
	if isScore(d.Metric) {
		format, change = num, signed
	}
	better := "n/a"
	if d.Delta.Valid {
		switch {
		case roundZero(d.Delta.Float64, 1e-12) == 0:
			better = "same"
		case (d.Delta.Float64 > 0) == d.HigherIsBetter:
			better = "B"
		default:
			better = "A"
		}
	}
	return []string{metricLabel(d.Metric), format(d.Base), format(d.Current), change(d.Delta), better}
}

// threshold-free metrics first, as they are what a policy choice is judged on.
var compareOrder = []string{"auc", "eer", "BPCER@", "APCER@", "apcer", "apcer_pooled", "bpcer", "acer", "apnrr", "bpnrr", "species."}

func compareRank(metric string) int {
	for i, p := range compareOrder {
		if metric == p || (strings.HasSuffix(p, "@") || strings.HasSuffix(p, ".")) && strings.HasPrefix(metric, p) {
			return i
		}
	}
	return len(compareOrder)
}

// writeCompareTable prints the comparison: a metric per row with columns A, B, B − A and the
// better side, then the per-group table.
func writeCompareTable(w io.Writer, res *compare.Result) error {
	t := &tableWriter{w: w}
	d := res.Dataset
	t.printf("dataset %s: %d presentations (%d bona fide, %d attack)\n", cmp.Or(d.Manifest, d.Root), d.Presentations, d.BonaFide, d.Attack)
	for k, s := range res.Sides {
		src := fmt.Sprintf("scored now (%d images)", s.Scored)
		if s.ScoresFile != "" {
			src = "from " + s.ScoresFile
		}
		t.printf("%c = %s: %s; crop policy %s, box %s\n", 'A'+k, s.Name, src, cmp.Or(s.CropPolicy, "n/a"), cmp.Or(s.BoxMode, "n/a"))
	}
	diffs := slices.Clone(res.Diffs)
	slices.SortStableFunc(diffs, func(a, b metrics.Diff) int { return cmp.Compare(compareRank(a.Metric), compareRank(b.Metric)) })
	rows := make([][]string, 0, len(diffs)+1)
	for _, df := range diffs {
		rows = append(rows, diffRow(df))
	}
	rec := func(s compare.SideResult) string {
		if s.Recommended == nil {
			return "none"
		}
		return num(s.Recommended.Threshold)
	}
	rows = append(rows, []string{fmt.Sprintf("threshold for worst APCER ≤ %s", pct(metrics.Of(res.TargetAPCER))), rec(res.Sides[0]), rec(res.Sides[1]), "", ""})
	align := []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft}
	t.table(fmt.Sprintf("A against B (change = B − A; rates at threshold %g; threshold-free metrics first)", res.Threshold),
		[]string{"metric", "A", "B", "change", "better"}, rows, align...)
	writeGroupTable(t, res.Groups, [2]string{res.Sides[0].Name, res.Sides[1].Name}, res.Threshold)
	return t.err
}

// writeGroupTable prints one row per group: its size, AUC, EER and BPCER@APCER=5%, and the
// rates at the threshold; under --compare (names set) AUC and BPCER@APCER=5% of both sides.
func writeGroupTable(t *tableWriter, groups []grouping.Result, names [2]string, threshold float64) {
	if len(groups) == 0 {
		return
	}
	at5 := func(r metrics.Report) metrics.Value {
		if op, ok := findOperatingPoint(r.BPCERAtAPCER, 0.05); ok {
			return op.BPCER
		}
		return metrics.Value{}
	}
	var (
		header []string
		rows   [][]string
	)
	col := groups[0].Column
	if len(groups[0].Reports) == 2 {
		header = []string{col, "bona fide", "attack", "AUC A", "AUC B", "change", "BPCER20 A", "BPCER20 B", "change"}
		for _, g := range groups {
			a, b := g.Reports[0], g.Reports[1]
			rows = append(rows, []string{g.Value, strconv.Itoa(g.BonaFide), strconv.Itoa(g.Attack),
				num(a.AUC), num(b.AUC), signed(delta(a.AUC, b.AUC)),
				pct(at5(a)), pct(at5(b)), pctDelta(delta(at5(a), at5(b)))})
		}
		t.table(fmt.Sprintf("By %s (A = %s, B = %s; BPCER20 = BPCER at APCER 5%%, change = B − A)", col, names[0], names[1]), header, rows,
			tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight)
		return
	}
	header = []string{col, "bona fide", "attack", "AUC", "EER", "BPCER20", "APCER pooled", "BPCER"}
	for _, g := range groups {
		r := g.Reports[0]
		rows = append(rows, []string{g.Value, strconv.Itoa(g.BonaFide), strconv.Itoa(g.Attack),
			num(r.AUC), pct(r.EER), pct(at5(r)), pct(r.APCERPooled.Value), pct(r.BPCER.Value)})
	}
	t.table(fmt.Sprintf("By %s (rates at threshold %g; BPCER20 = BPCER at APCER 5%%)", col, threshold), header, rows,
		tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight)
}

func findOperatingPoint(ops []metrics.OperatingPoint, target float64) (metrics.OperatingPoint, bool) {
	i := slices.IndexFunc(ops, func(op metrics.OperatingPoint) bool { return op.Target == target })
	if i < 0 {
		return metrics.OperatingPoint{}, false
	}
	return ops[i], true
}

// delta is b − a, undefined unless both are defined.
func delta(a, b metrics.Value) metrics.Value {
	if !a.Valid || !b.Valid {
		return metrics.Value{}
	}
	return metrics.Of(b.Float64 - a.Float64)
}

// pctDelta formats a change of a rate in percentage points.
func pctDelta(v metrics.Value) string {
	if !v.Valid {
		return "n/a"
	}
	return fmt.Sprintf("%+.2f pt", roundZero(100*v.Float64, 0.005))
}

// roundZero returns 0 for values that would print as a signed zero at resolution half.
func roundZero(v, half float64) float64 {
	if v > -half && v < half {
		return 0
	}
	return v
}
