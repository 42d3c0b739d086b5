// Package check implements `spoofsense check`: it scores image files, directories, a list of
// paths or stdin with one shared scorer and a pool of workers, and writes the results in input
// order as a table, JSON, NDJSON or CSV, with a progress bar, a summary line and an exit code a
// script can act on.
package check

import (
	"context"
	"os"
	"path"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/shard"
	"github.com/spoofsense/spoofsense/report"
	"github.com/spoofsense/spoofsense/scorer"
)

// CheckOptions is everything `spoofsense check` needs to run, filled from its flags.
type CheckOptions struct {
	IO *cmdutil.IOStreams
	// LoadScorer loads the scorer; it is called once, when the first image is about to be scored.
	LoadScorer func(ctx context.Context, opts scorer.Options) (cmdutil.DecodedScorer, error)

	// Paths are the PATH arguments: files, directories, or "-" for one image on stdin.
	Paths []string
	// FilesFrom names a file ("-" = stdin) listing one path per line, or per NUL with
	// NullSeparated. Each listed path is treated like a PATH argument.
	FilesFrom     string
	NullSeparated bool

	// Include and Exclude are glob patterns (path.Match syntax) filtering the files found in
	// directories; a pattern with a "/" matches the path below the directory argument, one
	// without matches the base name. Exclude also prunes directories. Hidden lets the walk enter
	// and take dot-files. Files named explicitly are always scored.
	Include []string
	Exclude []string
	Hidden  bool

	// Workers is how many images are scored at once (≥ 1).
	Workers int
	// Format is the output format; the zero value is filled in from whether stdout is a terminal.
	Format report.Format
	// Scorer holds the scoring options (threshold, strict, faces, crops, box).
	Scorer scorer.Options
	// Annotate, when set, is a directory receiving a copy of each scored image with the face
	// box, verdict and probability drawn on it.
	Annotate string

	// ProfileFile names a calibration profile (package scorer/profile) whose Channel entry
	// decides instead of --threshold; thresholdSet says --threshold was given.
	ProfileFile  string
	Channel      string
	thresholdSet bool

	// Shard is the --shard value ("K/N", "auto/N" or ""); shard is it parsed, with Getenv
	// giving auto its $JOB_COMPLETION_INDEX.
	Shard  string
	shard  shard.Shard
	Getenv func(string) string
	// Out, when set, is the file or object URL the results go to, through checkpoints beside
	// it (OUT.partial/) committed every CheckpointRows rows or CheckpointEvery; Resume scores
	// only the inputs the checkpoints of an earlier run do not hold.
	Out             string
	Resume          bool
	CheckpointRows  int
	CheckpointEvery time.Duration
	// PageSize is how many keys one listing request of a bucket prefix asks for.
	PageSize int

	Quiet    bool // no progress bar, no summary line
	Progress bool // draw the progress bar even when stderr is not a terminal
	ExitZero bool // exit 0 whatever the verdicts and file errors
}

const longHelp = `Score images for presentation attacks and report one result per image, in the order
given, while later images are still being scored.

Each PATH is an image file, a directory (walked recursively; images are picked by extension
or by their first bytes, hidden files and directories are skipped unless --hidden, symlinks
are followed and loops skipped), or "-" for one image read from stdin. --files-from reads
more paths from a file or stdin, one per line (NUL-separated with -0).

A PATH may also be an object-storage URL: s3://BUCKET/KEY, gs://, azblob:// or file:///DIR/.
A key is one image; a prefix (ending in "/", or a key no object has) lists its images (by
extension, with --include, --exclude and --hidden) in the bucket's order. Credentials come
from the provider's usual chain (AWS_* variables, ~/.aws, a web identity or instance role;
gcloud's application default credentials; AZURE_* variables); none found is exit 4. Query
parameters reach the driver: s3://b/p/?region=eu-west-1&endpoint=http://minio:9000&use_path_style=true.

Bulk runs: --shard K/N scores only the inputs whose name hashes to shard K (FNV-1a 64 mod N;
auto/N takes K from $JOB_COMPLETION_INDEX, as in a Kubernetes Indexed Job). --out FILE_OR_URL
writes the results there (NDJSON unless -o says otherwise), complete or not at all: rows are
committed to checkpoints under OUT.partial/ as they are scored and composed into OUT at the
end. --resume keeps the checkpoints an interrupted run left and scores only the rest; the
output is then the one an uninterrupted run writes.

Output (-o): table (default when stdout is a terminal; printed once everything is scored),
ndjson (default otherwise: one JSON result per line), json (one document with "results" and
"summary") or csv (a header row, then one row per image). An image that cannot be read or
decoded gets a row with status "error" and the reason; the others are still scored. A
progress bar is drawn on stderr when it is a terminal, and a summary line is written there
at the end (unless --quiet).

Exit status:
  0    every image was scored live
  1    at least one image was not live (spoof, no face, or rejected by --strict)
  2    usage error (bad flag or argument)
  3    at least one input could not be read or decoded (this wins over 1), an annotated
       copy could not be written, or no image was found
  4    the run could not be done: the models are missing or broken (the message says how
       to fix it), the --profile cannot be read or was made with other models or settings,
       a bucket's credentials are missing, or the results (--out) could not be written

--profile FILE --channel NAME decides at the threshold the calibration profile holds for
channel NAME (its default entry's when the channel has none of its own, or without
--channel); each result says which in "channel" and "threshold". A channel the profile does
not know is a usage error unless the profile says "unknown_channel": "default".
  130  interrupted (Ctrl-C): the results scored so far are printed, in order
With --exit-zero, 1 and 3 become 0; 4 stays.`

// NewCmdCheck builds the check command. runF, when not nil, receives the validated options
// instead of running them (flag tests stop there).
func NewCmdCheck(f *cmdutil.Factory, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IOStreams, LoadScorer: f.LoadDecodedScorer, Getenv: os.Getenv}
	var (
		format, nets string
		faces        = string(scorer.FacesLargest)
		crops        string
		box          = string(scorer.BoxRaw)
	)
	cmd := &cobra.Command{
		Use:   "check [flags] PATH...",
		Short: "Score images, directories or stdin for liveness",
		Long:  longHelp,
		Example: `  spoofsense check selfie.jpg
  spoofsense check -o csv --workers 4 photos/ > results.csv
  find uploads -name '*.jpg' -print0 | spoofsense check --files-from - -0 -o ndjson
  curl -s https://example.com/face.png | spoofsense check -
  spoofsense check --profile cameras.json --channel kiosk kiosk-photos/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			opts.thresholdSet = cmd.Flags().Changed("threshold")
			if format == "" && opts.Out != "" {
				format = string(report.NDJSON) // the bulk format, whatever stdout is
			}
			if err := opts.setEnums(format, faces, crops, box, nets); err != nil {
				return err
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return checkRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&format, "output", "o", "", "output format: "+report.FormatList()+
		" (default table on a terminal, else ndjson)")
	fl.IntVar(&opts.Workers, "workers", runtime.NumCPU(), "images scored at once")
	fl.Float64Var(&opts.Scorer.Threshold, "threshold", scorer.DefaultThreshold,
		"decision threshold: live when prob_real ≥ threshold (0 < t ≤ 1)")
	fl.BoolVar(&opts.Scorer.Strict, "strict", false, "refuse (verdict rejected) images failing a quality check")
	fl.StringVar(&faces, "faces", faces, "which faces to score: largest|all|reject-multiple")
	fl.StringVar(&crops, "crops", "", "crops per net: single|multi (default: the scorer's)")
	fl.StringVar(&box, "box", box, "face box geometry: raw|mapped")
	fl.StringVar(&nets, "nets", "all", "anti-spoof nets to run: all (the three of `spoofsense models list`) or a comma-separated list, e.g. MiniFASNetV2,MiniFASNetV1SE")
	fl.StringVar(&opts.ProfileFile, "profile", "", "decide at the threshold of --channel in the calibration profile `FILE` (eval --save-profile)")
	fl.StringVar(&opts.Channel, "channel", "", "the capture channel of the images, a channel of --profile (default: its default entry)")
	fl.StringVar(&opts.Annotate, "annotate", "", "write a copy of each image with the face box and verdict drawn into `DIR`")
	fl.StringVar(&opts.FilesFrom, "files-from", "", "read more paths from `FILE` (- for stdin), one per line")
	fl.BoolVarP(&opts.NullSeparated, "null", "0", false, "paths in --files-from are NUL-separated")
	fl.StringArrayVar(&opts.Include, "include", nil, "only take files in directories matching `GLOB` (repeatable)")
	fl.StringArrayVar(&opts.Exclude, "exclude", nil, "skip files and directories matching `GLOB` (repeatable)")
	fl.BoolVar(&opts.Hidden, "hidden", false, "also take hidden files and directories when walking")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "no progress bar and no summary line")
	fl.BoolVar(&opts.Progress, "progress", false, "draw the progress bar even when stderr is not a terminal")
	fl.BoolVar(&opts.ExitZero, "exit-zero", false, "exit 0 even when an image is not live or cannot be read")
	fl.StringVar(&opts.Shard, "shard", "", "score only shard `K/N` of the inputs (0 ≤ K < N, by a hash of each name); auto/N takes K from $JOB_COMPLETION_INDEX")
	fl.StringVar(&opts.Out, "out", "", "write the results to `FILE_OR_URL` (s3://, gs://, azblob://, file://) instead of stdout, complete or not at all")
	fl.BoolVar(&opts.Resume, "resume", false, "with --out: keep what an interrupted run of the same inputs wrote and score only the rest")
	fl.IntVar(&opts.CheckpointRows, "checkpoint-rows", 1000, "with --out: commit the rows scored so far every `N` rows")
	fl.DurationVar(&opts.CheckpointEvery, "checkpoint-every", 30*time.Second, "with --out: … and at least every `DURATION`")
	fl.IntVar(&opts.PageSize, "page-size", objstore.DefaultPageSize, "keys asked for per bucket listing request")
	cmd.MarkFlagsMutuallyExclusive("quiet", "progress")
	return cmd
}

// setEnums parses the string-valued flags into their typed options.
func (o *CheckOptions) setEnums(format, faces, crops, box, nets string) error {
	if format == "" {
		o.Format = report.NDJSON
		if o.IO.StdoutTTY {
			o.Format = report.Table
		}
	} else {
		f, err := report.ParseFormat(format)
		if err != nil {
			return cmdutil.UsageError("--output: %v", err)
		}
		o.Format = f
	}
	var err error
	if o.Scorer.Faces, err = scorer.ParseFaces(faces); err != nil {
		return cmdutil.UsageError("--%v", err)
	}
	if crops != "" {
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

// validate checks the options that do not depend on the file system.
func (o *CheckOptions) validate() error {
	if len(o.Paths) == 0 && o.FilesFrom == "" {
		return cmdutil.UsageError("no PATH given (use - to read one image from stdin)")
	}
	stdin := 0
	for _, p := range o.Paths {
		if p == "" {
			return cmdutil.UsageError("empty PATH argument")
		}
		if p == "-" {
			stdin++
		}
	}
	if o.FilesFrom == "-" {
		stdin++
	}
	if stdin > 1 {
		return cmdutil.UsageError("stdin (-) can be read only once")
	}
	if o.NullSeparated && o.FilesFrom == "" {
		return cmdutil.UsageError("-0/--null needs --files-from")
	}
	if o.Workers < 1 {
		return cmdutil.UsageError("--workers must be at least 1, not %d", o.Workers)
	}
	if err := scorer.ValidateThreshold("--threshold", o.Scorer.Threshold); err != nil {
		return cmdutil.UsageError("%v", err)
	}
	for _, pats := range []struct {
		flag string
		list []string
	}{{"--include", o.Include}, {"--exclude", o.Exclude}} {
		for _, p := range pats.list {
			if _, err := path.Match(p, ""); err != nil {
				return cmdutil.UsageError("%s %q: %v", pats.flag, p, err)
			}
		}
	}
	switch {
	case o.ProfileFile != "" && o.thresholdSet:
		return cmdutil.UsageError("--threshold does not apply with --profile: the profile holds the thresholds")
	case o.Channel != "" && o.ProfileFile == "":
		return cmdutil.UsageError("--channel needs --profile FILE")
	}
	if o.Annotate == "-" {
		return cmdutil.UsageError("--annotate needs a directory, not -")
	}
	if o.Shard != "" {
		s, err := shard.Parse("--shard", o.Shard, o.Getenv)
		if err != nil {
			return cmdutil.UsageError("%v", err)
		}
		o.shard = s
	}
	switch {
	case o.Out == "-":
		return cmdutil.UsageError("--out needs a file or URL (results go to stdout without it)")
	case o.Resume && o.Out == "":
		return cmdutil.UsageError("--resume needs --out: it resumes the output an interrupted run left there")
	case o.CheckpointRows < 1:
		return cmdutil.UsageError("--checkpoint-rows must be at least 1, not %d", o.CheckpointRows)
	case o.CheckpointEvery <= 0:
		return cmdutil.UsageError("--checkpoint-every must be positive, not %s", o.CheckpointEvery)
	case o.PageSize < 1:
		return cmdutil.UsageError("--page-size must be at least 1, not %d", o.PageSize)
	}
	return nil
}
