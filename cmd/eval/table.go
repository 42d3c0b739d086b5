package eval

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/spoofsense/spoofsense/report/metrics"
)

// pct formats a rate as a percentage with two decimals, or "n/a".
func pct(v metrics.Value) string { return v.Percent() }

// num formats a score, threshold or AUC with four decimals, or "n/a".
func num(v metrics.Value) string { return v.Fixed(4) }

// ci formats a rate's confidence interval.
func ci(r metrics.Rate) string { return r.Interval() }

// tableWriter renders the sections of the table output one after another and keeps the first
// error.
type tableWriter struct {
	w   io.Writer
	err error
}

// Write passes p on to the output unless an earlier write failed, and keeps the first error:
// tablewriter does not report the errors of the writes it makes.
func (t *tableWriter) Write(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	var n int
	n, t.err = t.w.Write(p)
	return n, t.err
}

func (t *tableWriter) printf(format string, a ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, a...)
	}
}

// table renders one titled table; align gives each column's alignment (left when missing).
func (t *tableWriter) table(title string, header []string, rows [][]string, align ...tw.Align) {
	if t.err != nil {
		return
	}
	t.printf("\n%s\n", title)
	per := make([]tw.Align, len(header))
	for i := range per {
		per[i] = tw.AlignLeft
		if i < len(align) {
			per[i] = align[i]
		}
	}
	tab := tablewriter.NewTable(t,
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: per}),
	)
	h := make([]any, len(header))
	for i, s := range header {
		h[i] = s
	}
	tab.Header(h...)
	for _, row := range rows {
		if err := tab.Append(row); err != nil {
			t.err = fmt.Errorf("table: %w", err)
			return
		}
	}
	if err := tab.Render(); err != nil && t.err == nil {
		t.err = fmt.Errorf("table: %w", err)
	}
}

// speciesNames returns the report's species in name order.
func speciesNames(r metrics.Report) []string {
	names := make([]string, 0, len(r.Species))
	for name := range r.Species {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// writeTable prints the human-readable report: the confusion table, the rates at the
// threshold, the threshold-free metrics, the gates and the baseline comparison.
func writeTable(w io.Writer, res *Result) error {
	t := &tableWriter{w: w}
	r := res.Report
	d := res.Dataset
	name := d.Root
	if d.Manifest != "" {
		name = d.Manifest
	}
	t.printf("dataset %s: %d presentations (%d bona fide, %d attack)", name, d.Presentations, d.BonaFide, d.Attack)
	if d.FromScores > 0 {
		t.printf("; %d scored now, %d from %s", d.Scored, d.FromScores, d.ScoresFile)
	}
	t.printf("\n")

	right := []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}
	countRow := func(name string, c metrics.ClassCounts) []string {
		return []string{name, strconv.Itoa(c.Total), strconv.Itoa(c.ClassifiedBonaFide),
			strconv.Itoa(c.ClassifiedAttack), strconv.Itoa(c.NoFace), strconv.Itoa(c.Unreadable)}
	}
	rows := [][]string{countRow("bona fide", r.Counts.BonaFide), countRow("attack (all)", r.Counts.Attack)}
	for _, s := range speciesNames(r) {
		rows = append(rows, countRow("  attack: "+s, r.Species[s].Counts))
	}
	t.table(fmt.Sprintf("Confusion table at threshold %g (live when prob_real ≥ threshold)", r.Threshold),
		[]string{"presentations", "total", "classified bona fide", "classified attack", "no face", "unreadable"},
		rows, right...)

	rateRow := func(name string, rt metrics.Rate) []string {
		return []string{name, pct(rt.Value), ci(rt), fmt.Sprintf("%d / %d", rt.Count, rt.Total)}
	}
	rows = [][]string{rateRow(fmt.Sprintf("APCER (worst species: %s)", cmp.Or(r.APCERSpecies, "n/a")), r.APCER)}
	for _, s := range speciesNames(r) {
		rows = append(rows, rateRow("  APCER "+s, r.Species[s].APCER))
	}
	rows = append(rows,
		rateRow("APCER pooled (all attacks)", r.APCERPooled),
		rateRow("BPCER", r.BPCER),
		[]string{"ACER (competition convention)", pct(r.ACER), "", ""},
		rateRow("APNRR (attack non-responses)", r.APNRR),
		rateRow("BPNRR (bona fide non-responses)", r.BPNRR),
	)
	level := r.APCER.CI.Level
	if level == 0 {
		level = metrics.DefaultConfidence
	}
	t.table(fmt.Sprintf("Error rates at threshold %g (non-responses left out of APCER and BPCER)", r.Threshold),
		[]string{"metric", "value", fmt.Sprintf("Wilson CI %g pct", 100*level), "count"},
		rows, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight)

	rows = [][]string{{"ROC AUC", num(r.AUC), ""}}
	for _, s := range speciesNames(r) {
		rows = append(rows, []string{"  AUC " + s, num(r.Species[s].AUC), ""})
	}
	rows = append(rows, []string{"EER", pct(r.EER), num(r.EERThreshold)})
	for _, op := range r.BPCERAtAPCER {
		rows = append(rows, []string{op.Name, pct(op.BPCER), num(op.Threshold)})
	}
	for _, op := range r.APCERAtBPCER {
		rows = append(rows, []string{op.Name, pct(op.APCER), num(op.Threshold)})
	}
	t.table("Threshold-free metrics (all attacks pooled)", []string{"metric", "value", "at threshold"},
		rows, tw.AlignLeft, tw.AlignRight, tw.AlignRight)

	t.printf("\n")
	if op := res.Recommended; op != nil {
		t.printf("Recommended threshold for APCER ≤ %s in every attack type: %s (worst %s, %s; BPCER %s)\n",
			pct(metrics.Of(res.TargetAPCER)), num(op.Threshold), pct(op.APCER), op.APCERSpecies, pct(op.BPCER))
	} else {
		t.printf("Recommended threshold for APCER ≤ %s in every attack type: none (no threshold meets it on this data)\n",
			pct(metrics.Of(res.TargetAPCER)))
	}

	if len(res.Gates) > 0 {
		rows = nil
		for _, g := range res.Gates {
			value := pct(g.Value)
			limit := pct(metrics.Of(g.Limit))
			if g.Metric == "auc" {
				value, limit = num(g.Value), num(metrics.Of(g.Limit))
			}
			rows = append(rows, []string{g.Name, value, limit, passFail(g.Pass)})
		}
		t.table("Gates", []string{"gate", "value", "limit", "result"}, rows,
			tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignLeft)
	}
	if b := res.Baseline; b != nil {
		rows = nil
		for _, df := range b.Diffs {
			result := passFail(!df.Worse)
			if !df.Delta.Valid {
				result = "n/a"
			}
			rows = append(rows, []string{df.Metric, num(df.Base), num(df.Current), signed(df.Delta), result})
		}
		t.table(fmt.Sprintf("Baseline %s (tolerance %g)", b.File, b.Tolerance),
			[]string{"metric", "baseline", "current", "change", "result"}, rows,
			tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft)
	}
	writeGroupTable(t, res.Groups, [2]string{}, r.Threshold)
	writeProfileTable(t, res.Profile)
	for _, w := range r.Warnings {
		t.printf("warning: %s\n", w)
	}
	if len(res.Gates) > 0 || res.Baseline != nil {
		if res.Passed {
			t.printf("\nPASS: every gate held\n")
		} else {
			t.printf("\nFAIL: %s\n", failureLine(res))
		}
	}
	return t.err
}

// passFail names a gate outcome.
func passFail(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

// signed formats a change with its sign, or "n/a".
func signed(v metrics.Value) string {
	if !v.Valid {
		return "n/a"
	}
	return fmt.Sprintf("%+.4f", roundZero(v.Float64, 0.00005))
}

// writeProfileTable shows each channel's threshold under --profile and its rates there.
func writeProfileTable(t *tableWriter, p *ProfileResult) {
	if p == nil {
		return
	}
	var rows [][]string
	for _, c := range p.Channels {
		th := strconv.FormatFloat(c.Threshold, 'g', 6, 64)
		if c.Fallback {
			th += " (default)"
		}
		r := c.Report
		rows = append(rows, []string{c.Channel, th, strconv.Itoa(c.BonaFide), strconv.Itoa(c.Attack),
			pct(r.APCERPooled.Value), pct(r.BPCER.Value), num(r.AUC)})
	}
	t.table(fmt.Sprintf("Channels of profile %s by %s (the tables above count these decisions: their scores are prob_real − threshold, decided at 0)", p.File, p.Column),
		[]string{p.Column, "threshold", "bona fide", "attack", "APCER pooled", "BPCER", "AUC"}, rows,
		tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight)
}
