// Package profile is the calibration profile format: one decision threshold per capture
// channel (a camera, an app, a kiosk), learned by `spoofsense eval --save-profile` from
// labelled data and applied by check, eval and serve. It reads, writes and validates profiles,
// learns one from scores, picks a channel's threshold and refuses a profile made with other
// models or scorer settings.
//
// # Format
//
// A profile is one JSON object (version 1; later versions only add fields, so a reader
// ignores the fields it does not know):
//
//	{
//	  "version": 1,
//	  "operating_point": {"metric": "bpcer", "target": 0.05},
//	  "unknown_channel": "error",            // or "default": unknown channels use the default entry
//	  "default": {entry learned from all data},
//	  "channels": {"kiosk": {entry}, "web": {entry}, …},
//	  "provenance": {models, net_set, crop_policy, box_mode, group_by, dataset,
//	                 dataset_size, spoofsense_version, created}
//	}
//
// An entry holds its threshold (live when prob_real ≥ threshold), the operating point it was
// chosen for, the scored bona fide and attack presentations it was learned from, and the APCER
// and BPCER reached at its threshold on them with 95% Wilson intervals. An entry without a
// threshold carries a reason and falls back to the default entry.
//
// # Choosing a threshold
//
// On a channel's curve (metrics.NewCurve of its scored presentations; non-responses are left
// out), the threshold for a BPCER target is the highest curve threshold with BPCER ≤ target
// (metrics.Curve.AtBPCER): the lowest APCER that keeps the target. For an APCER target it is
// the lowest curve threshold with APCER ≤ target, all attacks of the channel pooled
// (metrics.Curve.AtAPCER): the lowest BPCER that keeps the target.
//
// # Too little data
//
// A channel gets no threshold of its own when it has fewer than max(MinPerClass, ⌈1/target⌉)
// scored presentations of the class the target is on (bona fide for a BPCER target, attacks
// for an APCER target), or fewer than MinPerClass of the other class: with fewer, one error
// moves the rate past the target, or the other rate is not measured at all. Its reason says
// which rule failed, and it falls back to the default entry.
//
// # Validity
//
// A profile is valid only for the models and settings it was learned with: Check refuses,
// with one error naming the first difference, a profile whose model digests (full sha256 of the
// detector and each net), net set, crop policy or box mode differ from the scorer's.
package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/scorer"
)

// Version is the format version this package writes. Readers accept any version ≥ 1: later
// versions only add fields.
const Version = 1

// MinPerClass is the fewest scored presentations of each class a channel needs for a threshold
// of its own (see the package documentation for the full rule).
const MinPerClass = 20

// Confidence is the level of the Wilson intervals of an entry.
const Confidence = 0.95

// Metrics an operating point can hold at its target.
const (
	MetricBPCER = "bpcer"
	MetricAPCER = "apcer"
)

// Unknown-channel policies.
const (
	UnknownError   = "error"   // an unknown channel is an error (also when the field is absent)
	UnknownDefault = "default" // an unknown channel gets the default entry
)

// DefaultChannel is the name Resolve reports for the default entry.
const DefaultChannel = "default"

// OperatingPoint is the error rate a threshold is chosen to hold: Metric ≤ Target.
type OperatingPoint struct {
	Metric string  `json:"metric"` // "bpcer" or "apcer"
	Target float64 `json:"target"` // in (0, 1)
}

func (op OperatingPoint) String() string {
	return fmt.Sprintf("%s ≤ %g", strings.ToUpper(op.Metric), op.Target)
}

// Entry is one channel's calibration (or the default one).
type Entry struct {
	// Threshold decides live when prob_real ≥ Threshold; nil when the channel had too little
	// data, Reason then says why and the default entry applies.
	Threshold      *float64       `json:"threshold"`
	Reason         string         `json:"reason,omitempty"`
	OperatingPoint OperatingPoint `json:"operating_point"`
	// BonaFide and Attack count the scored presentations the entry was learned from.
	BonaFide int `json:"bona_fide"`
	Attack   int `json:"attack"`
	// APCER and BPCER are the rates at Threshold on those presentations (absent without one).
	APCER *metrics.Rate `json:"apcer,omitempty"`
	BPCER *metrics.Rate `json:"bpcer,omitempty"`
}

// Model is one model file a profile was learned with.
type Model struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"` // full lowercase hex digest
}

// Setup is what a profile is valid for: the models and the scorer settings that shape scores.
type Setup struct {
	Models     []Model  `json:"models"` // the detector first, then the nets in manifest order
	NetSet     []string `json:"net_set"`
	CropPolicy string   `json:"crop_policy"`
	BoxMode    string   `json:"box_mode"`
}

// Provenance says how a profile was made.
type Provenance struct {
	Setup
	// GroupBy is the dataset column whose values are the channels.
	GroupBy     string `json:"group_by"`
	Dataset     string `json:"dataset"`
	DatasetSize int    `json:"dataset_size"` // presentations in the dataset
	Spoofsense  string `json:"spoofsense_version"`
	Created     string `json:"created"` // RFC 3339, UTC
}

// Profile is a calibration profile.
type Profile struct {
	Version        int              `json:"version"`
	OperatingPoint OperatingPoint   `json:"operating_point"`
	UnknownChannel string           `json:"unknown_channel,omitempty"`
	Default        Entry            `json:"default"`
	Channels       map[string]Entry `json:"channels"`
	Provenance     Provenance       `json:"provenance"`
}

// SetupOf returns the setup a scorer with opts runs: the shipped models' digests for the
// detector and the net set, with the scorer's defaults filled in.
func SetupOf(opts scorer.Options) (Setup, error) {
	nets := opts.Nets
	if len(nets) == 0 {
		nets = models.AntiSpoofNames()
	}
	s := Setup{CropPolicy: string(opts.Crops), BoxMode: string(opts.Box)}
	if s.CropPolicy == "" {
		s.CropPolicy = string(scorer.DefaultCrops)
	}
	if s.BoxMode == "" {
		s.BoxMode = string(scorer.BoxRaw)
	}
	for _, name := range append([]string{models.NameUltraFace}, nets...) {
		m, ok := models.Lookup(name)
		if !ok {
			return Setup{}, fmt.Errorf("unknown model %q", name)
		}
		s.Models = append(s.Models, Model{Name: m.Name, SHA256: m.SHA256})
		if m.IsAntiSpoof() {
			s.NetSet = append(s.NetSet, m.Name)
		}
	}
	return s, nil
}

// Check returns nil when the profile was made with setup s, else one error naming the first
// difference: a model digest, the net set, the crop policy or the box mode.
func (p *Profile) Check(s Setup) error {
	have := p.Provenance.Setup
	if !slices.Equal(have.NetSet, s.NetSet) {
		return fmt.Errorf("made with net set %s, the scorer runs %s", strings.Join(have.NetSet, ","), strings.Join(s.NetSet, ","))
	}
	for _, m := range s.Models {
		i := slices.IndexFunc(have.Models, func(h Model) bool { return h.Name == m.Name })
		switch {
		case i < 0:
			return fmt.Errorf("has no digest for model %s", m.Name)
		case have.Models[i].SHA256 != m.SHA256:
			return fmt.Errorf("made with %s sha256 %s, the scorer's is %s", m.Name, have.Models[i].SHA256, m.SHA256)
		}
	}
	if len(have.Models) != len(s.Models) {
		return fmt.Errorf("made with %d models, the scorer runs %d", len(have.Models), len(s.Models))
	}
	if have.CropPolicy != s.CropPolicy {
		return fmt.Errorf("made with crop policy %s, the scorer's is %s (--crops %s)", have.CropPolicy, s.CropPolicy, have.CropPolicy)
	}
	if have.BoxMode != s.BoxMode {
		return fmt.Errorf("made with box mode %s, the scorer's is %s (--box %s)", have.BoxMode, s.BoxMode, have.BoxMode)
	}
	return nil
}

// Decision is the threshold Resolve picked and where it came from.
type Decision struct {
	// Channel is the channel asked for ("default" when none was).
	Channel   string
	Threshold float64
	// Fallback is true when the default entry decided for a named channel (too little data, or
	// an unknown channel under "unknown_channel": "default").
	Fallback bool
}

// Resolve returns the threshold for channel: its own entry's, or the default entry's when the
// channel is "" or "default", has no threshold of its own, or is unknown and the profile says
// "unknown_channel": "default". Another unknown channel is an error listing the known ones.
func (p *Profile) Resolve(channel string) (Decision, error) {
	def := Decision{Channel: DefaultChannel, Threshold: *p.Default.Threshold}
	if channel == "" || channel == DefaultChannel {
		return def, nil
	}
	def.Channel, def.Fallback = channel, true
	e, ok := p.Channels[channel]
	switch {
	case ok && e.Threshold != nil:
		return Decision{Channel: channel, Threshold: *e.Threshold}, nil
	case ok:
		return def, nil
	case p.UnknownChannel == UnknownDefault:
		return def, nil
	}
	return Decision{}, fmt.Errorf("unknown channel %q (the profile has %s)", channel, strings.Join(p.ChannelNames(), ", "))
}

// ChannelNames returns the channels' names, sorted.
func (p *Profile) ChannelNames() []string {
	names := make([]string, 0, len(p.Channels))
	for n := range p.Channels {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate checks the profile's own consistency, naming the first bad field.
func (p *Profile) Validate() error {
	if p.Version < 1 {
		return fmt.Errorf("version: want 1 or more, not %d", p.Version)
	}
	if err := p.OperatingPoint.validate("operating_point"); err != nil {
		return err
	}
	switch p.UnknownChannel {
	case "", UnknownError, UnknownDefault:
	default:
		return fmt.Errorf("unknown_channel %q: want %q or %q", p.UnknownChannel, UnknownError, UnknownDefault)
	}
	if p.Default.Threshold == nil {
		return fmt.Errorf("default: no threshold (%s)", orNone(p.Default.Reason))
	}
	if err := p.Default.validate("default"); err != nil {
		return err
	}
	for _, name := range p.ChannelNames() {
		if name == "" || name == DefaultChannel {
			return fmt.Errorf("channels: %q cannot be a channel name", name)
		}
		if err := p.Channels[name].validate("channels." + name); err != nil {
			return err
		}
	}
	s := p.Provenance.Setup
	if len(s.Models) == 0 {
		return errors.New("provenance.models: empty")
	}
	for i, m := range s.Models {
		if !hexDigest.MatchString(m.SHA256) {
			return fmt.Errorf("provenance.models[%d] (%s): sha256 %q is not 64 lowercase hex digits", i, m.Name, m.SHA256)
		}
	}
	switch {
	case len(s.NetSet) == 0:
		return errors.New("provenance.net_set: empty")
	case s.CropPolicy == "":
		return errors.New("provenance.crop_policy: empty")
	case s.BoxMode == "":
		return errors.New("provenance.box_mode: empty")
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

func (op OperatingPoint) validate(field string) error {
	if op.Metric != MetricBPCER && op.Metric != MetricAPCER {
		return fmt.Errorf("%s.metric %q: want %q or %q", field, op.Metric, MetricBPCER, MetricAPCER)
	}
	if !(op.Target > 0 && op.Target < 1) {
		return fmt.Errorf("%s.target %v: want a number in (0, 1)", field, op.Target)
	}
	return nil
}

func (e Entry) validate(field string) error {
	if e.Threshold == nil {
		if e.Reason == "" {
			return fmt.Errorf("%s: no threshold and no reason", field)
		}
		return nil
	}
	if t := *e.Threshold; !(t >= 0x1p-1022 && t <= 1) {
		return fmt.Errorf("%s.threshold %v: want a number in (0, 1]", field, t)
	}
	return e.OperatingPoint.validate(field + ".operating_point")
}

// Read reads and validates a profile file; every error names the file.
func Read(name string) (*Profile, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	return p, nil
}

// Parse decodes and validates a profile.
func Parse(b []byte) (*Profile, error) {
	var p Profile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("not a profile: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Marshal encodes the profile as indented JSON (channels sorted by name), ending in a newline.
func (p *Profile) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write writes the profile to the file name.
func (p *Profile) Write(name string) error {
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

// Scores are the scored presentations of one channel: prob_real of each bona fide and each
// attack presentation (non-responses left out).
type Scores struct {
	BonaFide []float64
	Attack   []float64
}

// Learn builds a profile for op: the default entry from all, one entry per channel. It fails
// when all does not have enough data for a threshold (there would be nothing to fall back on)
// or holds a non-finite score. The caller sets the provenance.
func Learn(op OperatingPoint, all Scores, channels map[string]Scores) (*Profile, error) {
	if err := op.validate("operating point"); err != nil {
		return nil, err
	}
	def, err := learnEntry(op, all)
	if err != nil {
		return nil, err
	}
	if def.Threshold == nil {
		return nil, fmt.Errorf("the whole dataset: %s", def.Reason)
	}
	p := &Profile{Version: Version, OperatingPoint: op, UnknownChannel: UnknownError, Default: def, Channels: map[string]Entry{}}
	for name, s := range channels {
		if name == "" || name == DefaultChannel {
			return nil, fmt.Errorf("channel %q: a channel cannot be empty or named %q", name, DefaultChannel)
		}
		if p.Channels[name], err = learnEntry(op, s); err != nil {
			return nil, fmt.Errorf("channel %s: %w", name, err)
		}
	}
	return p, nil
}

// Needed returns how many scored presentations of the class the target is on a channel needs.
func (op OperatingPoint) Needed() int {
	return max(MinPerClass, int(math.Ceil(1/op.Target-1e-9)))
}

func learnEntry(op OperatingPoint, s Scores) (Entry, error) {
	e := Entry{OperatingPoint: op, BonaFide: len(s.BonaFide), Attack: len(s.Attack)}
	on, other, onName, otherName := e.BonaFide, e.Attack, "bona fide", "attack"
	if op.Metric == MetricAPCER {
		on, other, onName, otherName = e.Attack, e.BonaFide, "attack", "bona fide"
	}
	switch {
	case on < op.Needed():
		e.Reason = fmt.Sprintf("%d scored %s presentations, fewer than the %d a %s target needs", on, onName, op.Needed(), op)
		return e, nil
	case other < MinPerClass:
		e.Reason = fmt.Sprintf("%d scored %s presentations, fewer than %d", other, otherName, MinPerClass)
		return e, nil
	}
	c, err := metrics.NewCurve(s.BonaFide, s.Attack)
	if err != nil {
		return e, err
	}
	var pt metrics.OperatingPoint
	if op.Metric == MetricBPCER {
		pt = c.AtBPCER(op.Target)
	} else {
		pt = c.AtAPCER(op.Target)
	}
	t := pt.Threshold.Or(math.NaN())
	if !(t >= 0x1p-1022 && t <= 1) {
		// Only the reject-all point above a score of 1 (or none) can be outside (0, 1].
		e.Reason = fmt.Sprintf("no threshold in (0, 1] holds %s on this data", op)
		return e, nil
	}
	e.Threshold = &t
	apcer, bpcer := Rates(s, t)
	e.APCER, e.BPCER = &apcer, &bpcer
	return e, nil
}

// Rates returns APCER (attacks with score ≥ t) and BPCER (bona fide with score < t) of s at t
// with their Wilson intervals.
func Rates(s Scores, t float64) (apcer, bpcer metrics.Rate) {
	var a, b int
	policy := scorer.Policy{Threshold: t, Rule: scorer.AtLeast}
	for _, x := range s.Attack {
		if policy.Live(x) {
			a++
		}
	}
	for _, x := range s.BonaFide {
		if !policy.Live(x) {
			b++
		}
	}
	return metrics.NewRate(a, len(s.Attack), Confidence), metrics.NewRate(b, len(s.BonaFide), Confidence)
}
