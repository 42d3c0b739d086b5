package eval

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/report/dataset"
	"github.com/spoofsense/spoofsense/report/grouping"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// ProfileResult is what `eval --profile` adds to a Result: the thresholds each channel was
// decided at and its metrics there. The pooled report at the top level is then computed on the
// margins prob_real − the presentation's channel threshold, decided at 0, so its APCER and
// BPCER count exactly the decisions the channels' thresholds make.
type ProfileResult struct {
	File     string          `json:"file"`
	Column   string          `json:"column"`
	Channels []ChannelResult `json:"channels"`
}

// ChannelResult is one channel's decisions under a profile.
type ChannelResult struct {
	Channel   string  `json:"channel"`
	Threshold float64 `json:"threshold"`
	// Fallback is true when the profile's default threshold decided for this channel.
	Fallback bool `json:"fallback"`
	BonaFide int  `json:"bona_fide"`
	Attack   int  `json:"attack"`
	// Report is the channel's metrics at Threshold (without the curve).
	Report metrics.Report `json:"report"`
}

// validateProfileFlags checks --save-profile, --profile and the operating point flags.
func (o *EvalOptions) validateProfileFlags(changed func(string) bool) error {
	bpcer, apcer := changed("target-bpcer"), changed("target-apcer")
	switch {
	case o.SaveProfile != "" && o.ProfileFile != "":
		return cmdutil.UsageError("give --save-profile or --profile, not both")
	case bpcer && o.SaveProfile == "":
		return cmdutil.UsageError("--target-bpcer needs --save-profile FILE")
	case o.ProfileFile != "" && changed("threshold"):
		return cmdutil.UsageError("--threshold does not apply with --profile: the profile holds the thresholds")
	case o.SaveProfile == "":
		return nil
	case o.GroupBy == "":
		return cmdutil.UsageError("--save-profile needs --group-by COLUMN, the manifest column naming each image's channel")
	case dataset.IsAttackColumn(o.GroupBy):
		return cmdutil.UsageError("--save-profile: --group-by %s does not split the images into channels; name a manifest column such as source", o.GroupBy)
	case bpcer && apcer:
		return cmdutil.UsageError("--save-profile: give --target-bpcer or --target-apcer, not both")
	case !bpcer && !apcer:
		return cmdutil.UsageError("--save-profile needs an operating point: --target-bpcer X or --target-apcer X")
	case bpcer && !(o.TargetBPCER > 0 && o.TargetBPCER < 1):
		return cmdutil.UsageError("--target-bpcer must be in (0, 1), not %g", o.TargetBPCER)
	}
	return nil
}

// operatingPoint is the profile's operating point from the flags.
func (o *EvalOptions) operatingPoint() profile.OperatingPoint {
	if o.TargetBPCER > 0 {
		return profile.OperatingPoint{Metric: profile.MetricBPCER, Target: o.TargetBPCER}
	}
	return profile.OperatingPoint{Metric: profile.MetricAPCER, Target: o.TargetAPCER}
}

// resultsSetup is the setup the results were scored with: the one their net set, crop policy
// and box mode name (every scored result must name the same; their 12-digit model prefixes
// must be the shipped models'), or base's when no result names one (older score files).
func resultsSetup(ds *dataset.Dataset, results []*scorer.Result, base scorer.Options) (profile.Setup, error) {
	var (
		setup profile.Setup
		from  string
	)
	for i, r := range results {
		if r == nil || !r.Scored() || len(r.NetSet) == 0 {
			continue
		}
		s, err := profile.SetupOf(scorer.Options{Nets: r.NetSet, Crops: scorer.CropPolicy(r.CropPolicy), Box: scorer.BoxMode(r.BoxMode)})
		if err != nil {
			return profile.Setup{}, cmdutil.UsageError("%s: %v", ds.Items[i].Key, err)
		}
		for _, m := range r.Models {
			k := slices.IndexFunc(s.Models, func(x profile.Model) bool { return x.Name == m.Name })
			if k >= 0 && !strings.HasPrefix(s.Models[k].SHA256, m.SHA256) {
				return profile.Setup{}, cmdutil.UsageError("%s was scored with %s sha256 %s…, not the shipped %s", ds.Items[i].Key, m.Name, m.SHA256, s.Models[k].SHA256)
			}
		}
		if from == "" {
			setup, from = s, ds.Items[i].Key
			continue
		}
		if err := (&profile.Profile{Provenance: profile.Provenance{Setup: setup}}).Check(s); err != nil {
			return profile.Setup{}, cmdutil.UsageError("the results mix scorer settings: %s %v, unlike %s", ds.Items[i].Key, err, from)
		}
	}
	if from != "" {
		return setup, nil
	}
	s, err := profile.SetupOf(base)
	if err != nil {
		return profile.Setup{}, cmdutil.UsageError("%v", err)
	}
	return s, nil
}

// channelScores splits the scored samples by channel.
func channelScores(samples []metrics.Sample, groups []grouping.Group) (all profile.Scores, channels map[string]profile.Scores) {
	add := func(s *profile.Scores, x metrics.Sample) {
		if x.NonResponse != metrics.Responded {
			return
		}
		if x.Label == metrics.BonaFide {
			s.BonaFide = append(s.BonaFide, x.Score)
		} else {
			s.Attack = append(s.Attack, x.Score)
		}
	}
	for _, x := range samples {
		add(&all, x)
	}
	channels = map[string]profile.Scores{}
	for _, g := range groups {
		var s profile.Scores
		for _, i := range g.Items {
			add(&s, samples[i])
		}
		channels[g.Value] = s
	}
	return all, channels
}

// saveProfile learns the profile from the samples grouped by channel and writes it.
func saveProfile(opts *EvalOptions, ds *dataset.Dataset, results []*scorer.Result, samples []metrics.Sample, groups []grouping.Group) error {
	setup, err := resultsSetup(ds, results, opts.Scorer)
	if err != nil {
		return err
	}
	all, channels := channelScores(samples, groups)
	p, err := profile.Learn(opts.operatingPoint(), all, channels)
	if err != nil {
		return cmdutil.UsageError("--save-profile: %v", err)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	p.Provenance = profile.Provenance{
		Setup: setup, GroupBy: opts.GroupBy, Dataset: ds.Name(), DatasetSize: len(ds.Items),
		Spoofsense: opts.Version, Created: now().UTC().Format(time.RFC3339),
	}
	if err := p.Write(opts.SaveProfile); err != nil {
		return cmdutil.CannotRun(fmt.Errorf("--save-profile: %w", err))
	}
	for _, name := range p.ChannelNames() {
		if e := p.Channels[name]; e.Threshold == nil {
			opts.note("profile: channel %s falls back to the default threshold %g: %s", name, *p.Default.Threshold, e.Reason)
		}
	}
	opts.note("profile written to %s: %d channels by %s, default threshold %g for %s",
		opts.SaveProfile, len(p.Channels), opts.GroupBy, *p.Default.Threshold, p.OperatingPoint)
	return nil
}

// loadProfile reads --profile; a file that cannot be used is exit 4, like missing models.
func loadProfile(opts *EvalOptions) (*profile.Profile, error) {
	p, err := profile.Read(opts.ProfileFile)
	if err != nil {
		return nil, cmdutil.CannotRun(err)
	}
	return p, nil
}

// checkProfile refuses a profile made with another setup than s.
func checkProfile(opts *EvalOptions, p *profile.Profile, s profile.Setup) error {
	if err := p.Check(s); err != nil {
		return cmdutil.CannotRun(fmt.Errorf("profile %s: %w", opts.ProfileFile, err))
	}
	return nil
}

// applyProfile decides every presentation at its channel's threshold: it returns the samples
// with margins (prob_real − threshold) as scores, for the pooled report at threshold 0, and
// each channel's report at its threshold.
func applyProfile(opts *EvalOptions, p *profile.Profile, ds *dataset.Dataset, samples []metrics.Sample, targets []float64) ([]metrics.Sample, *ProfileResult, error) {
	column := cmp.Or(opts.GroupBy, p.Provenance.GroupBy)
	if column == "" {
		return nil, nil, cmdutil.UsageError("profile %s names no channel column: pass --group-by COLUMN", opts.ProfileFile)
	}
	groups, err := groupBy(ds, column)
	if err != nil {
		return nil, nil, err
	}
	margins := slices.Clone(samples)
	res := &ProfileResult{File: opts.ProfileFile, Column: column}
	for _, g := range groups {
		d, err := p.Resolve(g.Value)
		if err != nil {
			it := ds.Items[g.Items[0]]
			return nil, nil, cmdutil.UsageError("%s (line %d): %s %s: profile %s: %v", it.Key, it.Line, column, g.Value, opts.ProfileFile, err)
		}
		cr := ChannelResult{Channel: g.Value, Threshold: d.Threshold, Fallback: d.Fallback}
		sub := make([]metrics.Sample, len(g.Items))
		for k, i := range g.Items {
			sub[k] = samples[i]
			margins[i].Score = samples[i].Score - d.Threshold // exact in sign: ≥ 0 iff score ≥ threshold
			if ds.Items[i].Label == metrics.BonaFide {
				cr.BonaFide++
			} else {
				cr.Attack++
			}
		}
		if cr.Report, err = metrics.Evaluate(sub, d.Threshold, metrics.Options{Targets: targets, OmitCurve: true}); err != nil {
			return nil, nil, cmdutil.UsageError("channel %s: %v", g.Value, err)
		}
		res.Channels = append(res.Channels, cr)
	}
	return margins, res, nil
}
