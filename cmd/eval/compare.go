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
	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/scorer"
)

// Side is one of the two score sources --compare puts side by side: the dataset scored with
// some scorer options, or the results of a score file.
type Side struct {
	// Name is the side as written on the command line ("crops=single", "multi.ndjson").
	Name string
	// Scorer holds the options the dataset is scored with; nil for a score file.
	Scorer *scorer.Options
	// File names an NDJSON score file (check -o ndjson, eval --save-scores); "" when scored.
	File string
}

// parseSides reads the --compare value "A,B". A side holding "=" is a list of settings joined
// by "+" (crops=single|multi, box=raw|mapped, nets=all or a list of nets) applied over base;
// any other side is a score file. The nets of a nets= list are separated by commas too, so a
// net name after a side's nets= setting continues that list:
// "nets=MiniFASNetV2,MiniFASNetV1SE,nets=all" is two sides.
func parseSides(value string, base scorer.Options) ([2]Side, error) {
	var sides [2]Side
	var parts []string
	for p := range strings.SplitSeq(value, ",") {
		if n := len(parts); n > 0 && !strings.Contains(p, "=") && isNetName(p) && strings.Contains(parts[n-1], "nets=") {
			parts[n-1] += "," + strings.TrimSpace(p)
			continue
		}
		parts = append(parts, p)
	}
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return sides, fmt.Errorf("--compare %q: want two sides A,B (e.g. crops=single,crops=multi or a.ndjson,b.ndjson)", value)
	}
	for i, part := range parts {
		part = strings.TrimSpace(part)
		sides[i].Name = part
		if !strings.Contains(part, "=") {
			sides[i].File = part
			continue
		}
		opts := base
		for setting := range strings.SplitSeq(part, "+") {
			key, val, _ := strings.Cut(setting, "=")
			switch key {
			case "crops":
				switch p := scorer.CropPolicy(val); p {
				case scorer.CropsSingle, scorer.CropsMulti:
					opts.Crops = p
				default:
					return sides, fmt.Errorf("--compare side %q: crops=%q (want single or multi)", part, val)
				}
			case "nets":
				nets, err := scorer.ParseNets(val)
				if err != nil {
					return sides, fmt.Errorf("--compare side %q: %v", part, err)
				}
				opts.Nets = nets
			case "box":
				switch b := scorer.BoxMode(val); b {
				case scorer.BoxRaw, scorer.BoxMapped:
					opts.Box = b
				default:
					return sides, fmt.Errorf("--compare side %q: box=%q (want raw or mapped)", part, val)
				}
			default:
				return sides, fmt.Errorf("--compare side %q: unknown setting %q (want crops=…, box=… or nets=…, or a score file)", part, key)
			}
		}
		sides[i].Scorer = &opts
	}
	return sides, nil
}

// CompareResult is the document `eval --compare A,B -o json` prints: both sides' metrics on
// the same presentations at the same threshold, and their differences.
type CompareResult struct {
	Dataset     DatasetInfo `json:"dataset"` // Scored, FromScores and ScoresFile are per side here
	Threshold   float64     `json:"threshold"`
	TargetAPCER float64     `json:"target_apcer"`
	// Sides are A and B, in command-line order.
	Sides [2]SideResult `json:"sides"`
	// Diffs lists every metric both reports have, Base = A and Current = B, so Delta = B − A
	// (metrics.Compare; Worse marks B worse than A by any amount).
	Diffs []metrics.Diff `json:"diffs"`
	// Groups holds both sides' metrics per value of --group-by (absent without it).
	Groups []GroupResult `json:"groups,omitempty"`
}

// SideResult is one side of a comparison.
type SideResult struct {
	Name string `json:"name"`
	// ScoresFile is the score file read (a file side, or a policy side's images were all
	// scored now when empty).
	ScoresFile string `json:"scores_file,omitempty"`
	// CropPolicy and BoxMode are what the results say ran ("mixed" when they differ, "" when
	// no result says).
	CropPolicy string `json:"crop_policy"`
	BoxMode    string `json:"box_mode"`
	Scored     int    `json:"scored"`
	FromScores int    `json:"from_scores"`
	// Report is the side's metrics (without the curve).
	Report      metrics.Report          `json:"report"`
	Recommended *metrics.OperatingPoint `json:"recommended"`
}

// GroupResult is the metrics of one group of presentations (one value of the --group-by
// column): one report, or one per side with their differences under --compare.
type GroupResult struct {
	Column   string `json:"column"`
	Value    string `json:"value"`
	BonaFide int    `json:"bona_fide"`
	Attack   int    `json:"attack"`
	// Reports are the group's metrics (without the curve): one, or A and B under --compare.
	Reports []metrics.Report `json:"reports"`
	Diffs   []metrics.Diff   `json:"diffs,omitempty"`
}

// group is a set of presentations, by index into the dataset's items.
type group struct {
	value string
	items []int
}

// groupItems splits the dataset by column. The attack column ("attack", "species" or
// "attack_type") gives one group per PAI species holding its attacks and every bona fide
// presentation, as ISO/IEC 30107-3 evaluates a species; any other manifest column partitions
// the presentations by their value in it (groups in order of first appearance).
func groupItems(ds *Dataset, column string) ([]group, error) {
	if slices.Contains(attackColumns, column) {
		var bonaFide []int
		bySpecies := map[string][]int{}
		names := slices.Clone(ds.Species)
		for i, it := range ds.Items {
			if it.Label == metrics.BonaFide {
				bonaFide = append(bonaFide, i)
				continue
			}
			if _, ok := bySpecies[it.Species]; !ok && !slices.Contains(names, it.Species) {
				names = append(names, it.Species)
			}
			bySpecies[it.Species] = append(bySpecies[it.Species], i)
		}
		slices.Sort(names)
		out := make([]group, 0, len(names))
		for _, name := range names {
			items := append(slices.Clone(bonaFide), bySpecies[name]...)
			slices.Sort(items)
			out = append(out, group{value: name, items: items})
		}
		return out, nil
	}
	if !slices.Contains(ds.Columns, column) {
		have := append([]string{"attack"}, ds.Columns...)
		hint := ""
		if ds.Manifest == "" {
			hint = "; a walked directory has only attack: pass --manifest FILE for its other columns"
		}
		return nil, cmdutil.UsageError("--group-by %s: no such column (have %s)%s", column, strings.Join(have, ", "), hint)
	}
	var out []group
	at := map[string]int{}
	for i, it := range ds.Items {
		v := it.Extra[column]
		k, ok := at[v]
		if !ok {
			k = len(out)
			at[v] = k
			out = append(out, group{value: v})
		}
		out[k].items = append(out[k].items, i)
	}
	return out, nil
}

// groupResults evaluates every group once per sample set (one per side).
func groupResults(ds *Dataset, column string, groups []group, sides [][]metrics.Sample, threshold float64, targets []float64) ([]GroupResult, error) {
	out := make([]GroupResult, 0, len(groups))
	for _, g := range groups {
		gr := GroupResult{Column: column, Value: g.value}
		for _, i := range g.items {
			if ds.Items[i].Label == metrics.BonaFide {
				gr.BonaFide++
			} else {
				gr.Attack++
			}
		}
		for _, samples := range sides {
			sub := make([]metrics.Sample, len(g.items))
			for k, i := range g.items {
				sub[k] = samples[i]
			}
			rep, err := metrics.Evaluate(sub, threshold, metrics.Options{Targets: targets, OmitCurve: true})
			if err != nil {
				return nil, fmt.Errorf("group %s=%s: %w", column, g.value, err)
			}
			gr.Reports = append(gr.Reports, rep)
		}
		if len(gr.Reports) == 2 {
			gr.Diffs = metrics.Compare(gr.Reports[0], gr.Reports[1], 0)
		}
		out = append(out, gr)
	}
	return out, nil
}

// compareRun scores (or reads) both sides of --compare, evaluates them on the same
// presentations and prints both columns and their difference.
func compareRun(ctx context.Context, opts *EvalOptions, ds *Dataset, info DatasetInfo) error {
	saves := [2]string{}
	if opts.SaveScores != "" {
		a, b, ok := strings.Cut(opts.SaveScores, ",")
		if !ok || strings.Contains(b, ",") {
			return cmdutil.UsageError("--save-scores with --compare takes two files A,B (either may be empty), not %q", opts.SaveScores)
		}
		saves = [2]string{strings.TrimSpace(a), strings.TrimSpace(b)}
	}
	targets := evalTargets(opts.TargetAPCER)
	res := &CompareResult{Dataset: info, Threshold: opts.Threshold, TargetAPCER: opts.TargetAPCER}
	var samples [2][]metrics.Sample
	for k, side := range opts.Compare {
		sr := SideResult{Name: side.Name, ScoresFile: side.File}
		results := make([]*scorer.Result, len(ds.Items))
		if side.File != "" {
			var (
				unmatched int
				err       error
			)
			if results, unmatched, err = loadScores(side.File, ds); err != nil {
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
			sr.FromScores = len(ds.Items)
		} else {
			n, err := opts.scoreMissing(ctx, ds, results, *side.Scorer, "")
			if err != nil {
				return err
			}
			sr.Scored = n
		}
		if saves[k] != "" {
			if err := writeScores(saves[k], ds, results); err != nil {
				return cmdutil.CannotRun(err)
			}
		}
		samples[k] = make([]metrics.Sample, len(ds.Items))
		var crops, boxes []string
		for i, it := range ds.Items {
			samples[k][i] = sample(it, results[i])
			crops = appendDistinct(crops, results[i].CropPolicy)
			boxes = appendDistinct(boxes, results[i].BoxMode)
		}
		sr.CropPolicy, sr.BoxMode = summarize(crops), summarize(boxes)
		rep, err := metrics.Evaluate(samples[k], opts.Threshold, metrics.Options{Targets: targets, Species: ds.Species, OmitCurve: true})
		if err != nil {
			return cmdutil.UsageError("%s: %v", side.Name, err)
		}
		sr.Report = rep
		if op, ok := rep.RecommendedThreshold(opts.TargetAPCER); ok && op.Threshold.Valid {
			sr.Recommended = &op
		}
		res.Sides[k] = sr
	}
	res.Diffs = metrics.Compare(res.Sides[0].Report, res.Sides[1].Report, 0)
	if opts.GroupBy != "" {
		groups, err := groupItems(ds, opts.GroupBy)
		if err != nil {
			return err
		}
		if res.Groups, err = groupResults(ds, opts.GroupBy, groups, samples[:], opts.Threshold, targets); err != nil {
			return cmdutil.UsageError("%v", err)
		}
	}
	return writeOutput(opts, res, func(w io.Writer) error { return writeCompareTable(w, res) })
}

func appendDistinct(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// summarize names the one value of a list, "mixed" for several, "" for none.
func summarize(values []string) string {
	switch len(values) {
	case 0:
		return ""
	case 1:
		return values[0]
	}
	return "mixed"
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
func writeCompareTable(w io.Writer, res *CompareResult) error {
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
	rec := func(s SideResult) string {
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
func writeGroupTable(t *tableWriter, groups []GroupResult, names [2]string, threshold float64) {
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

// isNetName reports whether s names a shipped anti-spoof net.
func isNetName(s string) bool {
	m, ok := models.Lookup(strings.TrimSpace(s))
	return ok && m.IsAntiSpoof()
}
