package eval

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
	"github.com/spoofsense/spoofsense/report/dataset"
	"github.com/spoofsense/spoofsense/report/grouping"
	htmlreport "github.com/spoofsense/spoofsense/report/html"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/report/scorefile"
	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// Result is the document `spoofsense eval -o json` prints, and what --baseline reads back. Its
// schema is stable: the fields of metrics.Report at the top level (threshold, counts, apcer,
// apcer_species, apcer_pooled, bpcer, acer, apnrr, bpnrr, species, auc, eer, eer_threshold,
// bpcer_at_apcer, apcer_at_bpcer, curve, warnings; see that package), plus
//
//	dataset       dataset.Info: where the presentations came from, how many were scored now
//	target_apcer  the --target-apcer value
//	recommended   the bpcer_at_worst_apcer operating point for target_apcer: at its threshold
//	              every species' APCER meets the target (null when no threshold does)
//	gates         one metrics.GateResult per limit set (an empty list when none)
//	baseline      BaselineResult, the comparison with --baseline (absent without it)
//	passed        true when every gate held and no metric regressed against the baseline
//	groups        grouping.Result per value of the --group-by column (absent without it)
//
// With --compare the document is a compare.Result instead.
type Result struct {
	metrics.Report
	Dataset     dataset.Info            `json:"dataset"`
	TargetAPCER float64                 `json:"target_apcer"`
	Recommended *metrics.OperatingPoint `json:"recommended"`
	Gates       []metrics.GateResult    `json:"gates"`
	Baseline    *BaselineResult         `json:"baseline,omitempty"`
	Passed      bool                    `json:"passed"`
	// Groups holds the metrics per value of --group-by (absent without it).
	Groups []grouping.Result `json:"groups,omitempty"`
	// Profile holds the channels' thresholds and metrics under --profile (absent without it);
	// the pooled report is then on margins at threshold 0 (see ProfileResult).
	Profile *ProfileResult `json:"profile,omitempty"`
}

// BaselineResult is the comparison of a run with a baseline report.
type BaselineResult struct {
	File      string  `json:"file"`
	Tolerance float64 `json:"tolerance"`
	// Diffs lists every metric both reports have (metrics.Compare).
	Diffs []metrics.Diff `json:"diffs"`
	// Regressions names the metrics worse than in the baseline by more than Tolerance.
	Regressions []string `json:"regressions"`
}

// worstShown is how many misclassified images of each class the HTML report shows.
const worstShown = 12

// evalRun loads the dataset, scores it (or reads its scores), evaluates it, writes the outputs
// and returns an exit error when a gate failed.
func evalRun(ctx context.Context, opts *EvalOptions) error {
	opts.opener = &objstore.Opener{}
	defer opts.opener.Close()
	ds, err := loadDataset(ctx, opts)
	if err != nil {
		return err
	}
	var baseline *metrics.Report
	if opts.Baseline != "" {
		at := opts.Threshold
		if opts.ProfileFile != "" {
			at = 0 // the pooled report of --profile decides margins at 0
		}
		if baseline, err = readBaseline(opts.Baseline, at); err != nil {
			return err
		}
	}
	info := ds.Info()
	info.ScoresFile = opts.Scores
	if ds.Skipped > 0 {
		opts.note("skipped %d files in %s that are not images by extension", ds.Skipped, ds.Root)
	}

	if opts.Compare != nil {
		return compareRun(ctx, opts, ds, info)
	}
	var prof *profile.Profile
	if opts.ProfileFile != "" {
		if prof, err = loadProfile(opts); err != nil {
			return err
		}
		if opts.Scores == "" { // refuse before scoring for nothing
			setup, err := resultsSetup(ds, nil, opts.Scorer)
			if err != nil {
				return err
			}
			if err := checkProfile(opts, prof, setup); err != nil {
				return err
			}
		}
	}
	var groups []grouping.Group
	if opts.GroupBy != "" && prof == nil {
		if groups, err = groupBy(ds, opts.GroupBy); err != nil {
			return err
		}
	}

	results := make([]*scorer.Result, len(ds.Items))
	if opts.Scores != "" {
		var unmatched int
		if results, unmatched, err = opts.loadScores(ctx, opts.Scores, ds); err != nil {
			return err
		}
		if unmatched > 0 {
			opts.note("%d results in %s are for files outside the dataset; ignored", unmatched, opts.Scores)
		}
		for _, r := range results {
			if r != nil {
				info.FromScores++
			}
		}
	}
	if info.Scored, err = opts.scoreMissing(ctx, ds, results, opts.Scorer, opts.Scores); err != nil {
		return err
	}
	if opts.SaveScores != "" {
		if err := scorefile.Write(opts.SaveScores, ds, results); err != nil {
			return cmdutil.CannotRun(err)
		}
	}

	samples := make([]metrics.Sample, len(ds.Items))
	for i, it := range ds.Items {
		samples[i] = scorefile.Sample(it, results[i])
		if results[i].Status == scorer.StatusOK && results[i].Verdict == scorer.Rejected {
			info.Rejected++
		}
	}
	targets := evalTargets(opts.TargetAPCER)
	if opts.SaveProfile != "" {
		if err := saveProfile(opts, ds, results, samples, groups); err != nil {
			return err
		}
	}
	threshold := opts.Threshold
	var profileRes *ProfileResult
	if prof != nil {
		setup, err := resultsSetup(ds, results, opts.Scorer)
		if err != nil {
			return err
		}
		if err := checkProfile(opts, prof, setup); err != nil {
			return err
		}
		if samples, profileRes, err = applyProfile(opts, prof, ds, samples, targets); err != nil {
			return err
		}
		threshold = 0
	}
	rep, err := metrics.Evaluate(samples, threshold, metrics.Options{Targets: targets, Species: ds.Species})
	if err != nil {
		source := opts.Scores
		if source == "" {
			source = "scores"
		}
		return cmdutil.UsageError("%s: %v", source, err)
	}

	res := &Result{Report: rep, Dataset: info, TargetAPCER: opts.TargetAPCER, Gates: opts.Gates.Check(rep), Profile: profileRes}
	if res.Gates == nil {
		res.Gates = []metrics.GateResult{}
	}
	if op, ok := rep.RecommendedThreshold(opts.TargetAPCER); ok && op.Threshold.Valid {
		res.Recommended = &op
	}
	if baseline != nil {
		diffs := metrics.Compare(*baseline, rep, opts.Tolerance)
		b := &BaselineResult{File: opts.Baseline, Tolerance: opts.Tolerance, Diffs: diffs, Regressions: []string{}}
		for _, d := range metrics.Regressions(diffs) {
			b.Regressions = append(b.Regressions, d.Metric)
		}
		res.Baseline = b
	}
	if groups != nil {
		if res.Groups, err = grouping.Evaluate(ds, opts.GroupBy, groups, [][]metrics.Sample{samples}, opts.Threshold, targets); err != nil {
			return cmdutil.UsageError("%v", err)
		}
	}
	res.Passed = metrics.AllPassed(res.Gates) && (res.Baseline == nil || len(res.Baseline.Regressions) == 0)

	if err := writeOutput(opts, res, func(w io.Writer) error { return writeTable(w, res) }); err != nil {
		return err
	}
	if opts.JUnit != "" {
		if err := writeJUnitFile(opts.JUnit, res); err != nil {
			return cmdutil.CannotRun(err)
		}
	}
	if opts.ReportDir != "" {
		page := reportPage(ds, samples, res)
		if err := htmlreport.Write(ctx, opts.ReportDir, page); err != nil {
			if ctx.Err() != nil {
				return &cmdutil.ExitError{Code: cmdutil.ExitInterrupt, Err: errors.New("interrupted")}
			}
			return cmdutil.CannotRun(err)
		}
		opts.note("report written to %s", opts.ReportDir)
	}
	if !res.Passed {
		return &cmdutil.ExitError{Code: cmdutil.ExitFail, Err: errors.New("gate failed: " + failureLine(res))}
	}
	return nil
}

// note prints one line on stderr unless --quiet.
func (o *EvalOptions) note(format string, a ...any) {
	if o.Quiet {
		return
	}
	fmt.Fprintf(o.IO.ErrOut, "spoofsense: "+format+"\n", a...)
}

// loadDataset reads the manifest or walks the directory; every failure is a usage error.
func loadDataset(ctx context.Context, opts *EvalOptions) (*dataset.Dataset, error) {
	var (
		ds  *dataset.Dataset
		err error
	)
	switch {
	case objstore.IsURL(opts.Dir):
		if ds, err = loadBucketDataset(ctx, opts.opener, opts.Dir); err != nil {
			return nil, err
		}
	case opts.Manifest != "":
		ds, err = loadManifest(opts.Manifest)
	default:
		ds, err = dataset.LoadDir(opts.Dir)
	}
	if err != nil {
		return nil, &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: err}
	}
	if len(ds.Items) == 0 {
		return nil, cmdutil.UsageError("dataset %s: no images found", ds.Root)
	}
	return ds, nil
}

// loadBucketDataset lists a dataset laid out in a bucket prefix (live/, spoof/…): a bucket
// that cannot be opened (no credentials) is exit 4, a listing that fails a usage error.
func loadBucketDataset(ctx context.Context, opener *objstore.Opener, url string) (*dataset.Dataset, error) {
	loc, err := objstore.Parse(url)
	if err != nil {
		return nil, cmdutil.UsageError("dataset: %v", err)
	}
	if !loc.IsPrefix() {
		loc.Key += "/"
	}
	b, err := opener.Bucket(ctx, loc)
	if err != nil {
		return nil, cmdutil.CannotRun(fmt.Errorf("dataset: %w", err))
	}
	keys := func(yield func(string, error) bool) {
		for key, err := range objstore.List(ctx, b, loc.Key, 0) {
			if err != nil {
				err = fmt.Errorf("list %s: %s", loc, objstore.Describe(err))
			}
			if !yield(strings.TrimPrefix(key, loc.Key), err) {
				return
			}
		}
	}
	ds, err := dataset.FromKeys(loc.String(), keys)
	if err != nil {
		return nil, cmdutil.UsageError("%v", err)
	}
	for i := range ds.Items { // read with the query (endpoint, region) the dataset was named with
		ds.Items[i].Path = loc.URL(loc.Key + ds.Items[i].Key)
	}
	return ds, nil
}

// loadManifest reads a manifest file, opened so that a FIFO cannot hang it.
func loadManifest(name string) (*dataset.Dataset, error) {
	f, err := cmdutil.OpenInput(context.Background(), name)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	return dataset.ReadManifest(f, name)
}

// groupBy splits the dataset by --group-by; a column it does not have is a usage error.
func groupBy(ds *dataset.Dataset, column string) ([]grouping.Group, error) {
	groups, err := grouping.By(ds, column)
	if err != nil {
		return nil, &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: err}
	}
	return groups, nil
}

// evalTargets are the fixed rates of the operating points: the defaults and target.
func evalTargets(target float64) []float64 {
	targets := metrics.DefaultTargets()
	if !slices.Contains(targets, target) {
		targets = append(targets, target)
		slices.Sort(targets)
	}
	return targets
}

// scoreMissing scores the items without a result with the scorer options so and returns how
// many it scored; scoresFile names where the others came from, for a note.
func (o *EvalOptions) scoreMissing(ctx context.Context, ds *dataset.Dataset, results []*scorer.Result, so scorer.Options, scoresFile string) (int, error) {
	index := map[string]int{}
	var paths []string
	for i, r := range results {
		if r == nil {
			index[ds.Items[i].Path] = i
			paths = append(paths, ds.Items[i].Path)
		}
	}
	if len(paths) == 0 {
		return 0, nil
	}
	if scoresFile != "" {
		o.note("%d of %d images have no result in %s; scoring them", len(paths), len(ds.Items), scoresFile)
	}
	req := ScoreRequest{Paths: paths, Scorer: so, Workers: o.Workers}
	if !o.Quiet && (o.Progress || o.IO.StderrTTY) {
		req.Progress = o.IO.ErrOut
	}
	var unknown []string
	err := o.Score(ctx, req, func(r scorer.Result) {
		i, ok := index[r.File]
		if !ok {
			unknown = append(unknown, r.File)
			return
		}
		res := r
		results[i] = &res
	})
	switch {
	case ctx.Err() != nil:
		return 0, &cmdutil.ExitError{Code: cmdutil.ExitInterrupt, Err: errors.New("interrupted")}
	case err != nil:
		return 0, cmdutil.CannotRun(fmt.Errorf("score %d images: %w", len(paths), err))
	case len(unknown) > 0:
		return 0, cmdutil.CannotRun(fmt.Errorf("scorer returned a result for %s, which it was not asked for", unknown[0]))
	}
	for _, i := range index {
		if results[i] == nil {
			return 0, cmdutil.CannotRun(fmt.Errorf("scorer returned no result for %s", ds.Items[i].Path))
		}
	}
	return len(paths), nil
}

// readBaseline reads an earlier `eval -o json` report. Its threshold must be the run's, since
// the threshold-dependent rates are not comparable otherwise.
func readBaseline(name string, threshold float64) (*metrics.Report, error) {
	f, err := cmdutil.OpenInput(context.Background(), name) // non-blocking: a FIFO cannot hang it
	if err != nil {
		return nil, cmdutil.UsageError("--baseline: %v", err)
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, cmdutil.UsageError("--baseline: %v", err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, cmdutil.UsageError("baseline %s: not an eval -o json report: %v", name, err)
	}
	for _, k := range []string{"threshold", "apcer", "bpcer", "auc"} {
		if _, ok := probe[k]; !ok {
			return nil, cmdutil.UsageError("baseline %s: not an eval -o json report (no %q field)", name, k)
		}
	}
	var rep metrics.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, cmdutil.UsageError("baseline %s: %v", name, err)
	}
	if rep.Threshold != threshold {
		return nil, cmdutil.UsageError("baseline %s was evaluated at threshold %g, this run at %g: pass --threshold %g",
			name, rep.Threshold, threshold, rep.Threshold)
	}
	return &rep, nil
}

// failureLine lists the failed gates in one line.
func failureLine(res *Result) string {
	var failed []string
	for _, g := range res.Gates {
		if !g.Pass {
			failed = append(failed, fmt.Sprintf("%s (%s %s, limit %g)", g.Name, g.Metric, g.Value, g.Limit))
		}
	}
	if res.Baseline != nil && len(res.Baseline.Regressions) > 0 {
		failed = append(failed, fmt.Sprintf("baseline (worse by more than %g: %s)",
			res.Baseline.Tolerance, strings.Join(res.Baseline.Regressions, ", ")))
	}
	return strings.Join(failed, "; ")
}

// reportPage gathers what the HTML report shows.
func reportPage(ds *dataset.Dataset, samples []metrics.Sample, res *Result) htmlreport.Page {
	page := htmlreport.Page{
		Title:       "spoofsense eval: " + ds.Name(),
		Report:      res.Report,
		Gates:       res.Gates,
		TargetAPCER: res.TargetAPCER,
		Recommended: res.Recommended,
		Scores:      htmlreport.Scores{Attack: map[string][]float64{}},
		Notes: []string{fmt.Sprintf("%d presentations (%d bona fide, %d attack); %d scored by this run, %d from %s",
			res.Dataset.Presentations, res.Dataset.BonaFide, res.Dataset.Attack, res.Dataset.Scored,
			res.Dataset.FromScores, cmp.Or(res.Dataset.ScoresFile, "no score file"))},
	}
	if res.Baseline != nil {
		page.Baseline = res.Baseline.Diffs
		page.BaselineFile = res.Baseline.File
	}
	var acceptedAttacks, rejectedBonaFide []htmlreport.Example
	policy := scorer.Policy{Threshold: res.Threshold, Rule: scorer.AtLeast} // the report's decisions
	for i, s := range samples {
		if s.NonResponse != metrics.Responded {
			continue
		}
		ex := htmlreport.Example{Name: s.ID, Path: ds.Items[i].Path, Label: s.Label, Species: s.Species, Score: s.Score}
		live := policy.Live(s.Score)
		switch {
		case s.Label == metrics.BonaFide:
			page.Scores.BonaFide = append(page.Scores.BonaFide, s.Score)
			if !live {
				rejectedBonaFide = append(rejectedBonaFide, ex)
			}
		default:
			page.Scores.Attack[s.Species] = append(page.Scores.Attack[s.Species], s.Score)
			if live {
				acceptedAttacks = append(acceptedAttacks, ex)
			}
		}
	}
	slices.SortStableFunc(acceptedAttacks, func(a, b htmlreport.Example) int { return cmp.Compare(b.Score, a.Score) })
	slices.SortStableFunc(rejectedBonaFide, func(a, b htmlreport.Example) int { return cmp.Compare(a.Score, b.Score) })
	page.Worst = append(page.Worst, acceptedAttacks[:min(worstShown, len(acceptedAttacks))]...)
	page.Worst = append(page.Worst, rejectedBonaFide[:min(worstShown, len(rejectedBonaFide))]...)
	return page
}

// writeOutput writes v to stdout as indented JSON (-o json) or as the table that table
// writes, and turns a write failure into exit code 4.
func writeOutput(opts *EvalOptions, v any, table func(io.Writer) error) error {
	var err error
	if opts.Format == JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		err = enc.Encode(v)
	} else {
		err = table(opts.IO.Out)
	}
	if err != nil {
		return cmdutil.CannotRun(fmt.Errorf("write results: %w", err))
	}
	return nil
}
