// Package compare owns eval's --compare: the two score sources it puts side by side (scorer
// settings or a score file, parsed from "A,B"), each side's metrics on the same presentations,
// and the document of both with their differences.
package compare

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/report/dataset"
	"github.com/spoofsense/spoofsense/report/grouping"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/report/scorefile"
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

// ParseSides reads the --compare value "A,B". A side holding "=" is a list of settings joined
// by "+" (crops=single|multi, box=raw|mapped, nets=all or a list of nets) applied over base;
// any other side is a score file. The nets of a nets= list are separated by commas too, so a
// net name after a side's nets= setting continues that list:
// "nets=MiniFASNetV2,MiniFASNetV1SE,nets=all" is two sides.
func ParseSides(value string, base scorer.Options) ([2]Side, error) {
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
			var err error
			switch key {
			case "crops":
				if opts.Crops, err = scorer.ParseCrops(val); err != nil {
					err = fmt.Errorf("--compare side %q: %v", part, err)
				}
			case "nets":
				if opts.Nets, err = scorer.ParseNets(val); err != nil {
					err = fmt.Errorf("--compare side %q: %v", part, err)
				}
			case "box":
				if opts.Box, err = scorer.ParseBox(val); err != nil {
					err = fmt.Errorf("--compare side %q: %v", part, err)
				}
			default:
				err = fmt.Errorf("--compare side %q: unknown setting %q (want crops=…, box=… or nets=…, or a score file)", part, key)
			}
			if err != nil {
				return sides, err
			}
		}
		sides[i].Scorer = &opts
	}
	return sides, nil
}

// Result is the document `eval --compare A,B -o json` prints: both sides' metrics on
// the same presentations at the same threshold, and their differences.
type Result struct {
	Dataset     dataset.Info `json:"dataset"` // Scored, FromScores and ScoresFile are per side here
	Threshold   float64      `json:"threshold"`
	TargetAPCER float64      `json:"target_apcer"`
	// Sides are A and B, in command-line order.
	Sides [2]SideResult `json:"sides"`
	// Diffs lists every metric both reports have, Base = A and Current = B, so Delta = B − A
	// (metrics.Compare; Worse marks B worse than A by any amount).
	Diffs []metrics.Diff `json:"diffs"`
	// Groups holds both sides' metrics per value of --group-by (absent without it).
	Groups []grouping.Result `json:"groups,omitempty"`
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

// Evaluate evaluates one side from its results (indexed like the dataset's items, none nil) at
// threshold, with the operating points at targets and the recommended threshold for
// targetAPCER. It returns the side (Name, ScoresFile, CropPolicy, BoxMode, Report and
// Recommended set; Scored and FromScores are the caller's) and its samples, for the groups.
func Evaluate(side Side, ds *dataset.Dataset, results []*scorer.Result, threshold float64, targets []float64, targetAPCER float64) (SideResult, []metrics.Sample, error) {
	sr := SideResult{Name: side.Name, ScoresFile: side.File}
	samples := make([]metrics.Sample, len(ds.Items))
	var crops, boxes []string
	for i, it := range ds.Items {
		samples[i] = scorefile.Sample(it, results[i])
		crops = appendDistinct(crops, results[i].CropPolicy)
		boxes = appendDistinct(boxes, results[i].BoxMode)
	}
	sr.CropPolicy, sr.BoxMode = summarize(crops), summarize(boxes)
	rep, err := metrics.Evaluate(samples, threshold, metrics.Options{Targets: targets, Species: ds.Species, OmitCurve: true})
	if err != nil {
		return SideResult{}, nil, fmt.Errorf("%s: %w", side.Name, err)
	}
	sr.Report = rep
	if op, ok := rep.RecommendedThreshold(targetAPCER); ok && op.Threshold.Valid {
		sr.Recommended = &op
	}
	return sr, samples, nil
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

// isNetName reports whether s names a shipped anti-spoof net.
func isNetName(s string) bool {
	m, ok := models.Lookup(strings.TrimSpace(s))
	return ok && m.IsAntiSpoof()
}
