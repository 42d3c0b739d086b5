// Package eval implements `spoofsense eval`: it scores a labelled dataset of live and spoof
// images (or re-reads the scores of an earlier run), computes the ISO/IEC 30107-3 metrics of
// package report/metrics, and prints them as a table or JSON, optionally with a JUnit file and
// an offline HTML report. Limits on the metrics and a baseline report make it a CI gate. It
// owns the flags, the orchestration and the output; what a dataset is (report/dataset), score
// files (report/scorefile), --group-by (report/grouping) and --compare (report/compare) live
// in their own packages.
package eval

import (
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
	"github.com/spoofsense/spoofsense/report/compare"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/scorer"
)

// Format names eval's output format.
type Format string

// Output formats.
const (
	Table Format = "table" // human-readable tables
	JSON  Format = "json"  // one Result document
)

// Defaults of the flags.
const (
	DefaultTargetAPCER = 0.05
	DefaultTolerance   = 0.01
)

// EvalOptions is everything `spoofsense eval` needs to run, filled from its flags.
type EvalOptions struct {
	IO *cmdutil.IOStreams
	// Score scores the images that have no result in the Scores file yet.
	Score ScoreFunc

	// Dir is a dataset directory (live/ and spoof/ folders); Manifest a CSV manifest. Exactly
	// one is set.
	Dir string
	// opener opens the buckets of a dataset URL and of --scores URLs, for the run.
	opener   *objstore.Opener
	Manifest string
	// Scores names an NDJSON score file whose results are used instead of scoring again;
	// SaveScores names a file receiving every result of this run as NDJSON.
	Scores     string
	SaveScores string

	Workers int
	// Scorer holds the scoring options; its Threshold is Threshold.
	Scorer scorer.Options
	// Threshold is the decision threshold the rates are computed at (score ≥ threshold → live).
	Threshold float64
	// TargetAPCER is the APCER the recommended threshold is chosen for.
	TargetAPCER float64

	Format Format
	// JUnit names a JUnit XML file to write, one test case per gate.
	JUnit string
	// ReportDir names a directory receiving the HTML report.
	ReportDir string

	Gates metrics.Gates
	// Baseline names an earlier `eval -o json` output; a metric worse than there by more than
	// Tolerance fails.
	Baseline  string
	Tolerance float64

	// Compare, when set, puts two score sources side by side instead of evaluating one (see
	// Side); gates, --baseline, --junit, --report and --scores do not apply then.
	Compare *[2]compare.Side
	// GroupBy names a column whose values split the presentations into groups, each evaluated
	// on its own: "attack" (one group per PAI species, with all bona fide presentations) or a
	// column of the manifest, such as "source".
	GroupBy string

	// SaveProfile names a calibration profile file to learn from the dataset, one threshold per
	// value of GroupBy, at TargetBPCER (when > 0) or else TargetAPCER (package scorer/profile).
	SaveProfile string
	TargetBPCER float64
	// ProfileFile names a calibration profile whose channel thresholds decide instead of
	// Threshold; the channel of an image is its value in GroupBy (default: the profile's column).
	ProfileFile string
	// Version is spoofsense's version, recorded in a saved profile; Now, when set, its date.
	Version string
	Now     func() time.Time

	Quiet    bool // no progress bar, no notes on stderr
	Progress bool // draw the progress bar even when stderr is not a terminal
}

const longHelp = `Evaluate liveness detection on a labelled dataset with the ISO/IEC 30107-3 metrics,
and gate a CI build on them.

The dataset is a DIR laid out as
  DIR/live/…    bona fide images (also named real/ or bona_fide/), at any depth
  DIR/spoof/…   attack images (also fake/ or attack/); spoof/print/…, spoof/replay/…, one
                sub-folder per attack type (PAI species); files directly in spoof/ are of
                species "unknown"
or a --manifest CSV with a header row naming the columns path,label[,attack] (paths relative
to the manifest, labels live/real/bona_fide or spoof/fake/attack; other columns are kept). A
directory is always walked, even when it holds a manifest.csv: pass that file with --manifest
to use it. Unknown labels, missing files and duplicate paths are errors, reported with their
line numbers. DIR may be a bucket prefix laid out the same way (s3://BUCKET/dev/, gs://,
azblob://, file://; credentials as for check).

Images are scored with a pool of workers (a progress bar on a terminal). --scores FILE reuses
the results of an earlier 'spoofsense check -o ndjson' or 'eval --save-scores' run, matched by
path relative to the dataset root; only images missing from it are scored. --scores may also
name many part files, the outputs of the shards of a bulk run (check --shard K/N --out …): a
glob ('parts/*.ndjson') or a bucket prefix URL (its .ndjson objects). They are merged; an image
in two parts is an error naming both, and the images in no part are listed, then scored.
--save-scores FILE writes every result of this run (paths relative to the dataset root) for the
next one.

Reported: at --threshold, APCER per attack type and overall (the worst type, as the standard
defines it) and pooled over all attacks, BPCER, ACER (the PAD-competition average, not an ISO
metric) with the confusion table and 95% Wilson intervals; threshold-free, ROC AUC, EER and its
threshold, BPCER at APCER 1/5/10% and APCER at BPCER 1/5/10% (all attacks pooled), and the
threshold recommended for --target-apcer: the lowest at which every attack type's APCER meets
it, so --max-apcer set to the same target holds there. Images without a face or unreadable ones are non-responses: counted as
APNRR/BPNRR and left out of the error rates.

--compare A,B evaluates the same presentations under two score sources and prints both
columns of metrics and their difference B − A (-o json: a document with "sides" and "diffs").
Each side is either scorer settings, joined with + and applied over --crops/--box, e.g.
  --compare crops=single,crops=multi          one-crop (§1.5) against three-crop (§1.7) policy
  --compare crops=multi,crops=multi+box=mapped
or an NDJSON score file that holds a result for every image (check -o ndjson, --save-scores):
  --compare single.ndjson,multi.ndjson        nothing is scored
  --compare single.ndjson,crops=multi         only side B is scored
With --compare, --save-scores A.ndjson,B.ndjson saves each side's results (either may be
empty); gates, --baseline, --junit, --report and --scores do not apply.

--group-by COLUMN also reports the metrics per group: "attack" gives one group per attack type
(its attacks against all bona fide presentations, as the standard evaluates a species); a
manifest column such as "source" splits the presentations by its values.

--save-profile FILE writes a calibration profile (with --group-by COLUMN and one of
--target-bpcer X or --target-apcer X): one threshold per value of COLUMN, the channel, chosen
on that channel's curve (for a BPCER target the highest threshold with BPCER ≤ X, for an APCER
target the lowest with pooled APCER ≤ X), a default one from all images, the counts and Wilson
intervals behind each, and the models and settings it is valid for. A channel with fewer than
max(20, ⌈1/X⌉) scored images of the class the target is on, or fewer than 20 of the other,
falls back to the default (said on stderr and in the file). --profile FILE decides each image
at its channel's threshold (its value in the profile's column, or --group-by's): the output
adds "profile" with each channel's threshold and metrics, and the pooled metrics, which the
gates check, count those decisions (their scores are the margins prob_real − threshold,
decided at 0). A profile made with other models, nets, --crops or --box is refused (exit 4).

Output (-o): table (default on a terminal) or json (default otherwise: the report fields of
package report/metrics plus dataset, target_apcer, recommended, gates, baseline and passed).
--junit writes one JUnit test case per gate; --report DIR writes an HTML page with DET and ROC
curves, score histograms and the worst misclassified images, readable offline.

Exit status:
  0    every gate holds (or none was set)
  1    a gate failed (the output says which)
  2    usage error: bad flags, or a dataset, score or baseline file that cannot be used
  4    the run could not be done: the models are missing or broken, the --profile cannot be
       read or was made with other models or settings, or an output (scores, JUnit, report,
       profile) could not be written
  130  interrupted`

// NewCmdEval builds the eval command. runF, when not nil, receives the validated options
// instead of running them (flag tests stop there).
func NewCmdEval(f *cmdutil.Factory, runF func(*EvalOptions) error) *cobra.Command {
	opts := &EvalOptions{IO: f.IOStreams, Score: PoolScorer(f.LoadScorer), Version: f.Version}
	var (
		format, nets                string
		crops                       string
		compare                     string
		box                         = string(scorer.BoxRaw)
		maxAPCER, maxBPCER, maxACER float64
		minAUC                      float64
	)
	cmd := &cobra.Command{
		Use:   "eval [flags] {DIR | URL | --manifest FILE}",
		Short: "Measure APCER, BPCER, AUC and EER on a labelled dataset; gate CI on them",
		Long:  longHelp,
		Example: `  spoofsense eval data/
  spoofsense eval --manifest data/manifest.csv --report eval-report/
  spoofsense check -o ndjson data/ > scores.ndjson
  spoofsense eval data/ --scores scores.ndjson --max-apcer 0.1 --min-auc 0.95 --junit eval.xml
  spoofsense eval data/ -o json > baseline.json
  spoofsense eval data/ --baseline baseline.json --tolerance 0.005
  spoofsense eval data/ --compare crops=single,crops=multi --save-scores single.ndjson,multi.ndjson
  spoofsense eval data/ --compare single.ndjson,multi.ndjson -o table
  spoofsense eval --manifest data/manifest.csv --group-by source
  spoofsense eval --manifest data/manifest.csv --group-by source --target-bpcer 0.05 --save-profile cameras.json
  spoofsense eval --manifest data/manifest.csv --profile cameras.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			fl := cmd.Flags()
			set := func(name string, v float64) *float64 {
				if !fl.Changed(name) {
					return nil
				}
				return &v
			}
			opts.Gates = metrics.Gates{
				MaxAPCER: set("max-apcer", maxAPCER),
				MaxBPCER: set("max-bpcer", maxBPCER),
				MaxACER:  set("max-acer", maxACER),
				MinAUC:   set("min-auc", minAUC),
			}
			if err := opts.setEnums(format, crops, box, nets); err != nil {
				return err
			}
			if err := opts.validate(fl); err != nil {
				return err
			}
			if fl.Changed("compare") {
				if err := opts.setCompare(fl, compare); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return evalRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Manifest, "manifest", "", "read the dataset from a CSV `FILE` with columns path,label[,attack]")
	fl.StringVarP(&format, "output", "o", "", "output format: table|json (default table on a terminal, else json)")
	fl.Float64Var(&opts.Threshold, "threshold", metrics.DefaultThreshold,
		"decision threshold for the rates: live when prob_real ≥ threshold")
	fl.Float64Var(&opts.TargetAPCER, "target-apcer", DefaultTargetAPCER, "APCER to recommend a threshold for")
	fl.StringVar(&opts.Scores, "scores", "", "reuse the results in NDJSON `FILE` (check -o ndjson output), or in the part files of a glob or bucket prefix URL, instead of scoring")
	fl.StringVar(&opts.SaveScores, "save-scores", "", "write every result as NDJSON to `FILE` for a later --scores")
	fl.IntVar(&opts.Workers, "workers", runtime.NumCPU(), "images scored at once")
	fl.StringVar(&crops, "crops", "", "crops per net: single|multi (default: the scorer's, multi)")
	fl.StringVar(&box, "box", box, "face box geometry: raw|mapped")
	fl.StringVar(&nets, "nets", "all", "anti-spoof nets to run: all (the three of `spoofsense models list`) or a comma-separated list, e.g. MiniFASNetV2,MiniFASNetV1SE")
	fl.StringVar(&opts.JUnit, "junit", "", "write the gates as JUnit XML test cases to `FILE`")
	fl.StringVar(&opts.ReportDir, "report", "", "write an HTML report with plots into `DIR`")
	fl.Float64Var(&maxAPCER, "max-apcer", 0, "fail when the worst-case APCER is above this")
	fl.Float64Var(&maxBPCER, "max-bpcer", 0, "fail when BPCER is above this")
	fl.Float64Var(&maxACER, "max-acer", 0, "fail when ACER is above this")
	fl.Float64Var(&minAUC, "min-auc", 0, "fail when the ROC AUC is below this")
	fl.StringVar(&opts.Baseline, "baseline", "", "fail when a metric is worse than in this earlier eval -o json `FILE`")
	fl.Float64Var(&opts.Tolerance, "tolerance", DefaultTolerance, "how much worse than --baseline a metric may get (absolute)")
	fl.StringVar(&compare, "compare", "", "put two score sources `A,B` side by side: settings like crops=single or score files (see above)")
	fl.StringVar(&opts.GroupBy, "group-by", "", "also report the metrics per value of `COLUMN`: attack, or a manifest column such as source")
	fl.StringVar(&opts.SaveProfile, "save-profile", "", "learn a calibration profile, one threshold per --group-by value, and write it to `FILE`")
	fl.Float64Var(&opts.TargetBPCER, "target-bpcer", 0, "with --save-profile: choose each channel's threshold for this BPCER (instead of --target-apcer)")
	fl.StringVar(&opts.ProfileFile, "profile", "", "decide each image at its channel's threshold from the calibration profile `FILE`")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "no progress bar and no notes on stderr")
	fl.BoolVar(&opts.Progress, "progress", false, "draw the progress bar even when stderr is not a terminal")
	cmd.MarkFlagsMutuallyExclusive("quiet", "progress")
	return cmd
}

// setEnums parses the string-valued flags into their typed options.
func (o *EvalOptions) setEnums(format, crops, box, nets string) error {
	switch Format(format) {
	case "":
		o.Format = JSON
		if o.IO.StdoutTTY {
			o.Format = Table
		}
	case Table, JSON:
		o.Format = Format(format)
	default:
		return cmdutil.UsageError("--output: unknown format %q (want table|json)", format)
	}
	var err error
	if crops != "" { // the scorer's default
		if o.Scorer.Crops, err = scorer.ParseCrops(crops); err != nil {
			return cmdutil.UsageError("--%v", err)
		}
	}
	if o.Scorer.Box, err = scorer.ParseBox(box); err != nil {
		return cmdutil.UsageError("--%v", err)
	}
	if o.Scorer.Nets, err = scorer.ParseNets(nets); err != nil {
		return cmdutil.UsageError("--%v", err)
	}
	return nil
}

// setCompare parses --compare and refuses the flags that do not apply to a comparison.
func (o *EvalOptions) setCompare(fl *pflag.FlagSet, value string) error {
	for _, name := range []string{"baseline", "junit", "report", "scores", "save-profile", "profile", "max-apcer", "max-bpcer", "max-acer", "min-auc"} {
		if fl.Changed(name) {
			return cmdutil.UsageError("--%s does not apply with --compare (score files are sides: --compare a.ndjson,b.ndjson)", name)
		}
	}
	sides, err := compare.ParseSides(value, o.Scorer)
	if err != nil {
		return cmdutil.UsageError("%v", err)
	}
	o.Compare = &sides
	return nil
}

// validate checks the options that do not depend on the file system.
func (o *EvalOptions) validate(fl *pflag.FlagSet) error {
	switch {
	case o.Dir == "" && o.Manifest == "":
		return cmdutil.UsageError("no dataset: give a DIR or --manifest FILE")
	case o.Dir != "" && o.Manifest != "":
		return cmdutil.UsageError("give a DIR or --manifest FILE, not both")
	case !(o.TargetAPCER > 0 && o.TargetAPCER < 1):
		return cmdutil.UsageError("--target-apcer must be in (0, 1), not %g", o.TargetAPCER)
	case o.Workers < 1:
		return cmdutil.UsageError("--workers must be at least 1, not %d", o.Workers)
	case !(o.Tolerance >= 0 && o.Tolerance <= 1):
		return cmdutil.UsageError("--tolerance must be in [0, 1], not %g", o.Tolerance)
	case fl != nil && fl.Changed("tolerance") && o.Baseline == "":
		return cmdutil.UsageError("--tolerance needs --baseline")
	case o.ReportDir == "-":
		return cmdutil.UsageError("--report needs a directory, not -")
	}
	changed := func(string) bool { return false }
	if fl != nil {
		changed = fl.Changed
	}
	if err := o.validateProfileFlags(changed); err != nil {
		return err
	}
	if err := scorer.ValidateThreshold("--threshold", o.Threshold); err != nil {
		return cmdutil.UsageError("%v", err)
	}
	for _, g := range []struct {
		flag  string
		limit *float64
	}{
		{"--max-apcer", o.Gates.MaxAPCER}, {"--max-bpcer", o.Gates.MaxBPCER},
		{"--max-acer", o.Gates.MaxACER}, {"--min-auc", o.Gates.MinAUC},
	} {
		if g.limit != nil && !(*g.limit >= 0 && *g.limit <= 1) {
			return cmdutil.UsageError("%s must be in [0, 1], not %g", g.flag, *g.limit)
		}
	}
	o.Scorer.Threshold = o.Threshold
	if err := o.Scorer.Validate(); err != nil {
		return cmdutil.UsageError("%v", err)
	}
	return nil
}
