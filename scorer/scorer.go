package scorer

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/scorer/engine"
	"github.com/spoofsense/spoofsense/scorer/engine/kernels"
)

// FacePolicy says which faces of an image are scored.
type FacePolicy string

// Face policies.
const (
	FacesLargest        FacePolicy = "largest"         // score the largest face (default)
	FacesAll            FacePolicy = "all"             // score every face; Result.Faces holds them
	FacesRejectMultiple FacePolicy = "reject-multiple" // refuse images with more than one face
)

// CropPolicy says how each net's crops are taken (PIPELINE §1.5 or §1.7).
type CropPolicy string

// Crop policies. CropsMulti is the default: on the dev set it raises the ROC AUC from 0.946 to
// 0.955 and lowers BPCER at APCER 5% from 0.29 to 0.22, for three runs of each net instead of
// one (the detector still runs once). CropsSingle is the original pipeline.
const (
	CropsSingle CropPolicy = "single" // one crop per net at its training scale (§1.5)
	CropsMulti  CropPolicy = "multi"  // three crops per net at 1.0, 0.9, 0.8 of the scale (§1.7)
)

// DefaultCrops is the crop policy of the zero Options.
const DefaultCrops = CropsMulti

// BoxMode says whether the detector's box is used as is or mapped to the training geometry (§1.3).
type BoxMode string

// Box modes.
const (
	BoxRaw    BoxMode = "raw"
	BoxMapped BoxMode = "mapped"
)

// DefaultThreshold is the decision threshold the replaced commercial API documents.
const DefaultThreshold = 0.55

// multiCropFactors are the §1.7 scale factors applied to each net's effective scale.
var multiCropFactors = [...]float64{1.0, 0.9, 0.8}

// Options configure a Scorer. The zero value means: models from the default location, threshold
// 0.55, largest face, multi-crop (DefaultCrops), raw box, default image limits, quality checks reported with
// the default limits but not enforced.
type Options struct {
	// ModelsDir is where the model files are ("" = $SPOOFSENSE_MODELS, else the embedded models
	// of a binary built with them, else the user cache).
	ModelsDir string
	Threshold float64 // 0 means DefaultThreshold
	Faces     FacePolicy
	Crops     CropPolicy
	Box       BoxMode
	// Strict refuses (verdict "rejected") images that fail a quality check.
	Strict bool
	// Limits bound what is decoded (zero value: 10 MiB, 50 megapixels).
	Limits preprocess.Limits
	// Quality holds the limits of the §1.6 checks (zero value: DefaultQualityLimits).
	Quality *QualityLimits
	// Nets names the anti-spoof nets to run (nil or empty: every net of the manifest, which is
	// the default ensemble of three), in any order and case: ParseNets reads a --nets value,
	// Validate checks the names, and the Scorer runs them in manifest order (Options()).
	Nets []string
}

// ParseNets reads a net set as users write it: "all" (or empty) for the default ensemble, or
// a comma-separated list of net names such as "MiniFASNetV2,MiniFASNetV1SE" (case ignored).
// It returns the names in manifest order, or nil for the default.
func ParseNets(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if v == "" || strings.EqualFold(v, "all") {
		return nil, nil
	}
	return canonicalNets(strings.Split(v, ","))
}

// canonicalNets checks net names and returns them as the manifest spells and orders them.
func canonicalNets(names []string) ([]string, error) {
	known := models.AntiSpoofNames()
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		m, ok := models.Lookup(n)
		if n == "" || !ok || !m.IsAntiSpoof() {
			return nil, fmt.Errorf("nets %q: unknown net %q (known: all, %s)", strings.Join(names, ","), n, strings.Join(known, ", "))
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("nets %q: %s is listed twice", strings.Join(names, ","), m.Name)
		}
		seen[m.Name] = true
	}
	var out []string
	for _, n := range known {
		if seen[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// ParseFaces reads a face policy as users write it (check's and serve's --faces, /v1/check's
// faces=): largest, all or reject-multiple. Its error names the setting and the choices, in
// the same words wherever the value came from; callers add the flag's dashes.
func ParseFaces(v string) (FacePolicy, error) {
	switch p := FacePolicy(v); p {
	case FacesLargest, FacesAll, FacesRejectMultiple:
		return p, nil
	}
	return "", fmt.Errorf("faces %q: must be largest, all or reject-multiple", v)
}

// ParseCrops reads a crop policy as users write it (--crops, crops=, eval --compare sides):
// single or multi.
func ParseCrops(v string) (CropPolicy, error) {
	switch p := CropPolicy(v); p {
	case CropsSingle, CropsMulti:
		return p, nil
	}
	return "", fmt.Errorf("crops %q: must be single or multi", v)
}

// ParseBox reads a box mode as users write it (--box, box=, eval --compare sides): raw or
// mapped.
func ParseBox(v string) (BoxMode, error) {
	switch m := BoxMode(v); m {
	case BoxRaw, BoxMapped:
		return m, nil
	}
	return "", fmt.Errorf("box %q: must be raw or mapped", v)
}

// Validate reports the first invalid option, naming it. A threshold of 0 means the default;
// any other must pass ValidateThreshold.
func (o Options) Validate() error {
	if o.Threshold != 0 || math.Signbit(o.Threshold) {
		if err := ValidateThreshold("threshold", o.Threshold); err != nil {
			return err
		}
	}
	// Empty settings take their defaults (WithDefaults).
	if o.Faces != "" {
		if _, err := ParseFaces(string(o.Faces)); err != nil {
			return err
		}
	}
	if o.Crops != "" {
		if _, err := ParseCrops(string(o.Crops)); err != nil {
			return err
		}
	}
	if o.Box != "" {
		if _, err := ParseBox(string(o.Box)); err != nil {
			return err
		}
	}
	if len(o.Nets) > 0 {
		if _, err := canonicalNets(o.Nets); err != nil {
			return err
		}
	}
	return nil
}

// Policy is the decision these options make: live when prob_real ≥ Threshold (the default
// threshold when it is 0).
func (o Options) Policy() Policy {
	t := o.Threshold
	if t == 0 {
		t = DefaultThreshold
	}
	return Policy{Threshold: t, Rule: AtLeast}
}

// WithDefaults returns o with every zero field set to what a Scorer uses for it: the default
// threshold, largest face, DefaultCrops, raw box, DefaultQualityLimits and every anti-spoof net
// (a list of nets is put in manifest order). It is the one place the defaults live: serve fills
// its configuration with it instead of repeating them. Nets that do not validate are left as
// given, for Validate to refuse.
func (o Options) WithDefaults() Options {
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.Faces == "" {
		o.Faces = FacesLargest
	}
	if o.Crops == "" {
		o.Crops = DefaultCrops
	}
	if o.Box == "" {
		o.Box = BoxRaw
	}
	if o.Quality == nil {
		q := DefaultQualityLimits()
		o.Quality = &q
	}
	if len(o.Nets) == 0 {
		o.Nets = models.AntiSpoofNames()
	} else if nets, err := canonicalNets(o.Nets); err == nil {
		o.Nets = nets
	}
	return o
}

// Scorer scores images. It holds the loaded models, which are immutable, and a pool of
// per-goroutine run state, so one Scorer serves any number of concurrent Score calls.
type Scorer struct {
	opts     Options
	detector *engine.Model
	detInfo  models.Model
	// loaded holds every anti-spoof net New loaded; nets the ones these options run (a subset,
	// in manifest order). Run states keep one session per loaded net, by index in loaded.
	loaded   []antiSpoofNet
	nets     []int
	versions []ModelVersion
	states   statePool
}

// antiSpoofNet is one loaded anti-spoof net with the manifest facts that say how to feed it
// and read it.
type antiSpoofNet struct {
	info  models.Model
	model *engine.Model
}

// runState is what one Score call needs besides the shared models: engine sessions (made when
// a net first runs) and buffers.
type runState struct {
	detector *engine.Session
	nets     []*engine.Session
	detIn    []float32
	crop     []float32 // shifted-window crops, 80×80
	square   []float32 // square crops, 128×128
	squareSc preprocess.SquareScratch
	dets     []Detection
}

// New loads and verifies the models once and returns a Scorer using them.
func New(ctx context.Context, opts Options) (*Scorer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.WithDefaults()
	store, err := models.Open(opts.ModelsDir)
	if err != nil {
		return nil, err
	}
	load := func(name string, batch int) (*engine.Model, models.Model, error) {
		data, m, err := store.Load(ctx, name)
		if err != nil {
			return nil, m, err
		}
		em, err := engine.Load(data, engine.LoadOptions{Name: m.File, Batch: batch})
		if err != nil {
			return nil, m, fmt.Errorf("load model: %w", err)
		}
		return em, m, nil
	}
	s := &Scorer{opts: opts}
	if s.detector, s.detInfo, err = load(models.NameUltraFace, 0); err != nil {
		return nil, err
	}
	// Only the nets the options name are loaded (a user who must not use one never reads it).
	// Anti-spoof nets are planned for batch 1: the third net declares a dynamic batch.
	for _, name := range opts.Nets {
		em, m, err := load(name, 1)
		if err != nil {
			return nil, err
		}
		s.loaded = append(s.loaded, antiSpoofNet{info: m, model: em})
	}
	if err := s.selectNets(opts.Nets); err != nil {
		return nil, err
	}
	s.initStates()
	return s, nil
}

// selectNets points s.nets at the loaded nets named (in manifest order) and sets the model
// versions a result reports.
func (s *Scorer) selectNets(names []string) error {
	s.nets = s.nets[:0]
	s.versions = []ModelVersion{{Name: s.detInfo.Name, SHA256: s.detInfo.SHA256[:12]}}
	for _, name := range names {
		i := slices.IndexFunc(s.loaded, func(n antiSpoofNet) bool { return n.info.Name == name })
		if i < 0 {
			var have []string
			for _, n := range s.loaded {
				have = append(have, n.info.Name)
			}
			return fmt.Errorf("nets: %s is not loaded by this scorer (it runs %s)", name, strings.Join(have, ", "))
		}
		s.nets = append(s.nets, i)
		m := s.loaded[i].info
		s.versions = append(s.versions, ModelVersion{Name: m.Name, SHA256: m.SHA256[:12]})
	}
	return nil
}

// initStates sets up the pool of per-call run state over the loaded models.
func (s *Scorer) initStates() {
	s.states.new = func() *runState {
		return &runState{
			detector: s.detector.NewSession(),
			nets:     make([]*engine.Session, len(s.loaded)),
			detIn:    make([]float32, preprocess.TensorLen(s.detInfo.Input)),
		}
	}
}

// session returns the run state's session of loaded net i, making it on first use.
func (st *runState) session(s *Scorer, i int) *engine.Session {
	if st.nets[i] == nil {
		st.nets[i] = s.loaded[i].model.NewSession()
	}
	return st.nets[i]
}

// statePool keeps the run states of finished calls for the next ones. Unlike a sync.Pool it
// is not emptied by the garbage collector: a run state holds megabytes of engine buffers and
// packed weights, and scoring allocates a decoded image per call, so a sync.Pool would be
// cleared every few calls and the sessions built again. It holds at most as many states as
// there were concurrent calls.
type statePool struct {
	mu   sync.Mutex
	free []*runState
	new  func() *runState
}

func (p *statePool) get() *runState {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		st := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return st
	}
	p.mu.Unlock()
	return p.new()
}

func (p *statePool) put(st *runState) {
	p.mu.Lock()
	p.free = append(p.free, st)
	p.mu.Unlock()
}

// WithOptions returns a Scorer that shares s's loaded models (they are immutable) but decides
// with other options, such as a per-request threshold, crop policy or net set. It loads
// nothing, so it is cheap; opts.ModelsDir is ignored, and opts.Nets must name nets s loaded
// (empty: every net s loaded).
func (s *Scorer) WithOptions(opts Options) (*Scorer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.ModelsDir = s.opts.ModelsDir
	if len(opts.Nets) == 0 {
		for _, n := range s.loaded {
			opts.Nets = append(opts.Nets, n.info.Name)
		}
	}
	c := &Scorer{opts: opts.WithDefaults(), detector: s.detector, detInfo: s.detInfo, loaded: s.loaded}
	if err := c.selectNets(c.opts.Nets); err != nil {
		return nil, err
	}
	c.initStates()
	return c, nil
}

// Nets returns the names of the anti-spoof nets this Scorer runs, in manifest order.
func (s *Scorer) Nets() []string { return slices.Clone(s.opts.Nets) }

// Options returns the options the Scorer runs with, defaults filled in.
func (s *Scorer) Options() Options { return s.opts }

// ScoreReader decodes one image from r (format sniffed, size limits and EXIF orientation
// applied) and scores it: Decode with the scorer's limits, then ScoreDecoded. name is used in
// error messages and Result.File. A decode failure returns a Result with Status "error" and the
// error, an *InputError wrapping the preprocess error types; an image without a face is not an
// error (verdict "no_face").
func (s *Scorer) ScoreReader(ctx context.Context, r io.Reader, name string) (Result, error) {
	d, err := Decode(r, name, s.opts.Limits)
	if err != nil {
		return Result{File: name, Status: StatusError, Error: err.Error()}, err
	}
	return s.ScoreDecoded(ctx, d)
}

// Decoded is one image decoded for scoring: what Decode returns and ScoreDecoded takes. A
// caller that needs the pixels too (check draws its --annotate copies on them) decodes once
// and scores the same image.
type Decoded struct {
	// Name names the input, for Result.File and error messages.
	Name string
	// Image is the upright image.
	Image *preprocess.Image
	// DecodeTime is how long decoding took: the result's Timings.Decode.
	DecodeTime time.Duration
}

// Decode reads one image from r as the scorer does — format sniffed, size limits applied,
// EXIF orientation applied — for ScoreDecoded. A failure is an *InputError naming name.
func Decode(r io.Reader, name string, limits preprocess.Limits) (Decoded, error) {
	return DecodeWith(new(preprocess.Decoder), r, name, limits)
}

// DecodeWith is Decode with dec's buffers, which a worker decoding one image after another
// keeps (dec is not safe for concurrent use).
func DecodeWith(dec *preprocess.Decoder, r io.Reader, name string, limits preprocess.Limits) (Decoded, error) {
	start := time.Now()
	img, err := dec.Decode(r, limits)
	if err != nil {
		return Decoded{}, &InputError{Name: displayName(name), Err: err}
	}
	return Decoded{Name: name, Image: img, DecodeTime: time.Since(start)}, nil
}

// ScoreDecoded scores an image decoded by Decode, as Score does, and names the result after
// the input: Result.File is d.Name, Timings.Decode is d.DecodeTime and Timings.Total includes it.
func (s *Scorer) ScoreDecoded(ctx context.Context, d Decoded) (Result, error) {
	start := time.Now()
	res, err := s.Score(ctx, d.Image)
	res.File = d.Name
	res.Timings.Decode = ms(d.DecodeTime)
	res.Timings.Total = ms(d.DecodeTime + time.Since(start))
	return res, err
}

// InputError reports input that could not be read or decoded: the caller's data, not a failure
// of the pipeline. Err is the reader's or decoder's error (often a preprocess error type).
type InputError struct {
	Name string
	Err  error
}

func (e *InputError) Error() string { return "decode " + e.Name + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *InputError) Unwrap() error { return e.Err }

func displayName(name string) string {
	if name == "" {
		return "image"
	}
	return name
}

// Score scores an already decoded image: detect faces, pick one (or all) by the face policy,
// crop around it for each net, run the nets, and decide.
func (s *Scorer) Score(ctx context.Context, img *preprocess.Image) (Result, error) {
	start := time.Now()
	res := Result{
		Status:     StatusOK,
		Threshold:  s.opts.Threshold,
		CropPolicy: string(s.opts.Crops),
		BoxMode:    string(s.opts.Box),
		NetSet:     s.opts.Nets,
		Models:     s.versions,
		Image: ImageInfo{
			Width: img.Width, Height: img.Height, Format: img.Format,
			Orientation: max(img.Orientation, 1), Bytes: img.Bytes,
		},
	}
	if err := ctx.Err(); err != nil {
		return s.fail(res, err)
	}
	st := s.states.get()
	defer s.states.put(st)

	// Detect.
	t := time.Now()
	if _, err := preprocess.DetectorInput(img, s.detInfo.Input, st.detIn); err != nil {
		return s.fail(res, &InputError{Name: "image", Err: err})
	}
	out, err := st.detector.RunFloat32(ctx, st.detIn)
	if err != nil {
		return s.fail(res, fmt.Errorf("face detector: %w", err))
	}
	st.dets = SelectDetections(st.dets, out[0], out[1], DefaultDetectorThresholds())
	res.Timings.Detect = ms(time.Since(t))
	res.FaceCount = len(st.dets)

	faces := make([]Face, len(st.dets))
	largest, largestArea := -1, -1
	for i, d := range st.dets {
		raw := preprocess.RawBox(d.X1, d.Y1, d.X2, d.Y2, img.Width, img.Height)
		box := raw
		if s.opts.Box == BoxMapped {
			box = preprocess.MapBox(d.X1, d.Y1, d.X2, d.Y2, img.Width, img.Height)
		}
		faces[i] = Face{DetectorBox: raw, Box: box, DetectorScore: float64(d.Score)}
		if raw.Area() > largestArea {
			largest, largestArea = i, raw.Area()
		}
	}
	if largest < 0 {
		res.Verdict = NoFace
		res.Timings.Total = ms(time.Since(start))
		return res, nil
	}

	// Score the chosen face, or all of them.
	scoreIdx := []int{largest}
	if s.opts.Faces == FacesAll {
		scoreIdx = scoreIdx[:0]
		for i := range faces {
			scoreIdx = append(scoreIdx, i)
		}
	}
	for _, i := range scoreIdx {
		if err := s.scoreFace(ctx, st, img, &faces[i], &res.Timings); err != nil {
			return s.fail(res, err)
		}
	}
	chosen := faces[largest]
	res.Face = &chosen
	res.ProbReal, res.Score, res.Verdict = chosen.ProbReal, chosen.Score, chosen.Verdict
	if s.opts.Faces == FacesAll {
		res.Faces = faces
	}

	// Quality checks (§1.6) on the chosen face.
	t = time.Now()
	res.Quality = s.opts.Quality.Check(img, chosen.Box, res.FaceCount)
	res.Timings.Quality = ms(time.Since(t))
	switch {
	case s.opts.Faces == FacesRejectMultiple && res.FaceCount > 1:
		res.Verdict = Rejected
	case s.opts.Strict && !allPassed(res.Quality):
		res.Verdict = Rejected
	}
	res.Timings.Total = ms(time.Since(start))
	return res, nil
}

// scoreFace crops the face for each net by its crop rule and the crop policy, runs the nets and
// fills in the face's per-net results, probability, score and verdict: prob_real is the mean
// over nets of each net's mean live probability over its crops, and score the mean over nets
// and crops of the live margin (see liveMargin).
//
// Each crop is one batch-1 run of the net, one after another through the same session and
// crop buffer: a model planned for a batch of 3 (engine.LoadOptions.Batch) gave identical
// logits and no measurable gain (BenchmarkNetCrops).
func (s *Scorer) scoreFace(ctx context.Context, st *runState, img *preprocess.Image, f *Face, tm *Timings) error {
	box := f.Box
	factors := multiCropFactors[:1]
	if s.opts.Crops == CropsMulti {
		factors = multiCropFactors[:]
	}
	f.Nets = make([]NetResult, len(s.nets))
	var probSum, scoreSum float64
	for n, li := range s.nets {
		net := s.loaded[li].info
		live := net.Output.LiveIndex
		nr := NetResult{Name: net.Name, CropRule: string(net.Crop), CropScale: net.CropScale,
			EffectiveScale: net.CropScale, LiveIndex: live, Softmax: make([]float64, net.Output.Classes)}
		if net.Crop == models.CropShifted {
			_, nr.EffectiveScale = preprocess.CropWindow(box, img.Width, img.Height, net.CropScale)
		}
		if s.opts.Crops == CropsMulti {
			nr.Crops = make([]CropScore, 0, len(factors))
		}
		sess := st.session(s, li)
		for k, factor := range factors {
			t := time.Now()
			in, err := s.cropFor(st, img, box, net, nr.EffectiveScale, factor)
			if err != nil {
				return fmt.Errorf("%s crop: %w", net.Name, err)
			}
			tm.Crop += ms(time.Since(t))
			t = time.Now()
			out, err := sess.RunFloat32(ctx, in)
			if err != nil {
				return fmt.Errorf("%s: %w", net.Name, err)
			}
			tm.Nets += ms(time.Since(t))
			if len(out) == 0 || len(out[0]) < net.Output.Classes {
				return fmt.Errorf("%s: expected %d logits", net.Name, net.Output.Classes)
			}
			logits := make([]float64, net.Output.Classes)
			for j := range logits {
				logits[j] = float64(out[0][j])
			}
			sm := softmax(logits)
			if k == 0 {
				nr.Logits = logits
			}
			if nr.Crops != nil {
				nr.Crops = append(nr.Crops, CropScore{ScaleFactor: factor, Logits: logits, Softmax: sm, PLive: sm[live]})
			}
			for j := range nr.Softmax {
				nr.Softmax[j] += sm[j] / float64(len(factors))
			}
			scoreSum += liveMargin(logits, live) / float64(len(factors))
		}
		nr.PLive = nr.Softmax[live]
		probSum += nr.PLive
		f.Nets[n] = nr
	}
	f.ProbReal = probSum / float64(len(s.nets))
	f.Score = scoreSum / float64(len(s.nets))
	f.Verdict = s.opts.Policy().Decide(f.ProbReal)
	return nil
}

// cropFor cuts one crop of the face box for net at the given scale factor of its effective
// scale, by the net's crop rule, into the run state's buffer for that rule.
func (s *Scorer) cropFor(st *runState, img *preprocess.Image, box preprocess.Box, net models.Model, eff, factor float64) ([]float32, error) {
	switch net.Crop {
	case models.CropShifted:
		win, _ := preprocess.CropWindow(box, img.Width, img.Height, eff*factor)
		crop, err := preprocess.Tensor(img, win, net.Input, st.crop)
		st.crop = crop
		return crop, err
	case models.CropSquareReflect:
		// The factors are decimals: round the product to them, so 1.5·0.8 is the 1.2 the
		// reference uses and not its neighbour one ulp away.
		expansion := math.Round(eff*factor*1e6) / 1e6
		crop, err := preprocess.SquareCrop(img, box, expansion, net.Input, st.square, &st.squareSc)
		st.square = crop
		return crop, err
	}
	return nil, fmt.Errorf("unknown crop rule %q", net.Crop)
}

// fail turns res into an error result; cancellation errors stay recognisable with errors.Is.
func (s *Scorer) fail(res Result, err error) (Result, error) {
	res.Status = StatusError
	res.Error = err.Error()
	res.Verdict = ""
	return res, err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Kernels names the inference kernels this process runs: "avx512", "avx2", "neon" or "portable" (see
// scorer/engine/kernels: the best the build and CPU support, or SPOOFSENSE_KERNELS).
func Kernels() string { return kernels.Variant() }

// KernelsError says why SPOOFSENSE_KERNELS could not be honoured (nil when it was, or unset).
func KernelsError() error { return kernels.VariantError() }
