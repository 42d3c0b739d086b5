// Package grouping owns eval's --group-by: splitting a dataset's presentations into groups (one
// per attack species against all bona fide presentations, or one per value of a manifest
// column) and the metrics of each group, under one score source or the two of --compare.
package grouping

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spoofsense/spoofsense/report/dataset"
	"github.com/spoofsense/spoofsense/report/metrics"
)

// Group is a set of presentations, by index into the dataset's items.
type Group struct {
	// Value is the group's species or its value in the column.
	Value string
	// Items index the dataset's items, in increasing order.
	Items []int
}

// By splits the dataset by column. The attack column ("attack", "species" or "attack_type")
// gives one group per PAI species holding its attacks and every bona fide presentation, as
// ISO/IEC 30107-3 evaluates a species; any other manifest column partitions the presentations
// by their value in it (groups in order of first appearance). A column the dataset does not
// have is an error naming the ones it has.
func By(ds *dataset.Dataset, column string) ([]Group, error) {
	if dataset.IsAttackColumn(column) {
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
		out := make([]Group, 0, len(names))
		for _, name := range names {
			items := append(slices.Clone(bonaFide), bySpecies[name]...)
			slices.Sort(items)
			out = append(out, Group{Value: name, Items: items})
		}
		return out, nil
	}
	if !slices.Contains(ds.Columns, column) {
		have := append([]string{"attack"}, ds.Columns...)
		hint := ""
		if ds.Manifest == "" {
			hint = "; a walked directory has only attack: pass --manifest FILE for its other columns"
		}
		return nil, fmt.Errorf("--group-by %s: no such column (have %s)%s", column, strings.Join(have, ", "), hint)
	}
	var out []Group
	at := map[string]int{}
	for i, it := range ds.Items {
		v := it.Extra[column]
		k, ok := at[v]
		if !ok {
			k = len(out)
			at[v] = k
			out = append(out, Group{Value: v})
		}
		out[k].Items = append(out[k].Items, i)
	}
	return out, nil
}

// Result is the metrics of one group of presentations (one value of the --group-by column):
// one report, or one per side with their differences under --compare.
type Result struct {
	Column   string `json:"column"`
	Value    string `json:"value"`
	BonaFide int    `json:"bona_fide"`
	Attack   int    `json:"attack"`
	// Reports are the group's metrics (without the curve): one, or A and B under --compare.
	Reports []metrics.Report `json:"reports"`
	Diffs   []metrics.Diff   `json:"diffs,omitempty"`
}

// Evaluate evaluates every group once per sample set (one per side; each indexed like the
// dataset's items) at threshold, with the operating points at targets.
func Evaluate(ds *dataset.Dataset, column string, groups []Group, sides [][]metrics.Sample, threshold float64, targets []float64) ([]Result, error) {
	out := make([]Result, 0, len(groups))
	for _, g := range groups {
		gr := Result{Column: column, Value: g.Value}
		for _, i := range g.Items {
			if ds.Items[i].Label == metrics.BonaFide {
				gr.BonaFide++
			} else {
				gr.Attack++
			}
		}
		for _, samples := range sides {
			sub := make([]metrics.Sample, len(g.Items))
			for k, i := range g.Items {
				sub[k] = samples[i]
			}
			rep, err := metrics.Evaluate(sub, threshold, metrics.Options{Targets: targets, OmitCurve: true})
			if err != nil {
				return nil, fmt.Errorf("group %s=%s: %w", column, g.Value, err)
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
