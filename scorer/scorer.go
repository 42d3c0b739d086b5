package scorer

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/scorer/engine"
)

// FacePolicy says which faces of an image are scored.
type FacePolicy string

// Face policies.
const (
	FacesLargest        FacePolicy = "largest"         // score the largest face (default)
	FacesAll            FacePolicy = "all"             // score every face; Result.Faces holds them
	FacesRejectMultiple FacePolicy = "reject-multiple" // refuse images with more than one face
)

// CropPolicy says how each net's crops are taken (REFERENCE §1.5 or §1.7).
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
}

// Validate reports the first invalid option, naming it.
func (o Options) Validate() error {
	if o.Threshold < 0 || o.Threshold > 1 {
		return fmt.Errorf("threshold %v: must be between 0 and 1", o.Threshold)
	}
	switch o.Faces {
	case "", FacesLargest, FacesAll, FacesRejectMultiple:
	default:
		return fmt.Errorf("faces %q: must be largest, all or reject-multiple", o.Faces)
	}
	switch o.Crops {
	case "", CropsSingle, CropsMulti:
	default:
		return fmt.Errorf("crops %q: must be single or multi", o.Crops)
	}
	switch o.Box {
	case "", BoxRaw, BoxMapped:
	default:
		return fmt.Errorf("box %q: must be raw or mapped", o.Box)
	}
	return nil
}

func (o Options) withDefaults() Options {
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
	return o
}

// Scorer scores images. It holds the loaded models, which are immutable, and a pool of
// per-goroutine run state, so one Scorer serves any number of concurrent Score calls.
type Scorer struct {
	opts     Options
	detector *engine.Model
	nets     [2]antiSpoofNet
	versions []ModelVersion
	states   statePool
}

// antiSpoofNet is one loaded MiniFASNet with its crop scale.
type antiSpoofNet struct {
	name  string
	scale float64
	model *engine.Model
}

// runState is what one Score call needs besides the shared models: engine sessions and buffers.
type runState struct {
	detector *engine.Session
	nets     [2]*engine.Session
	detIn    []float32
	crop     []float32
	dets     []Detection
}

// New loads and verifies the models once and returns a Scorer using them.
func New(ctx context.Context, opts Options) (*Scorer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	store, err := models.Open(opts.ModelsDir)
	if err != nil {
		return nil, err
	}
	load := func(name string) (*engine.Model, models.Model, error) {
		data, m, err := store.Load(ctx, name)
		if err != nil {
			return nil, m, err
		}
		em, err := engine.Load(data, engine.LoadOptions{Name: m.File})
		if err != nil {
			return nil, m, fmt.Errorf("load model: %w", err)
		}
		return em, m, nil
	}
	s := &Scorer{opts: opts}
	var det models.Model
	if s.detector, det, err = load(models.NameUltraFace); err != nil {
		return nil, err
	}
	s.versions = append(s.versions, ModelVersion{Name: det.Name, SHA256: det.SHA256[:12]})
	for i, name := range []string{models.NameMiniFASNetV2, models.NameMiniFASNetV1SE} {
		em, m, err := load(name)
		if err != nil {
			return nil, err
		}
		s.nets[i] = antiSpoofNet{name: m.Name, scale: m.CropScale, model: em}
		s.versions = append(s.versions, ModelVersion{Name: m.Name, SHA256: m.SHA256[:12]})
	}
	s.initStates()
	return s, nil
}

// initStates sets up the pool of per-call run state over the loaded models.
func (s *Scorer) initStates() {
	s.states.new = func() *runState {
		return &runState{
			detector: s.detector.NewSession(),
			nets:     [2]*engine.Session{s.nets[0].model.NewSession(), s.nets[1].model.NewSession()},
			detIn:    make([]float32, preprocess.DetectorInputLen),
			crop:     make([]float32, preprocess.CropLen),
		}
	}
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
// with other options, such as a per-request threshold or crop policy. It loads nothing, so it
// is cheap; opts.ModelsDir is ignored.
func (s *Scorer) WithOptions(opts Options) (*Scorer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.ModelsDir = s.opts.ModelsDir
	c := &Scorer{opts: opts.withDefaults(), detector: s.detector, nets: s.nets, versions: s.versions}
	c.initStates()
	return c, nil
}

// Options returns the options the Scorer runs with, defaults filled in.
func (s *Scorer) Options() Options { return s.opts }

// ScoreReader decodes one image from r (format sniffed, size limits and EXIF orientation
// applied) and scores it. name is used in error messages and Result.File. A decode failure
// returns a Result with Status "error" and the error, which wraps the preprocess error types;
// an image without a face is not an error (verdict "no_face").
func (s *Scorer) ScoreReader(ctx context.Context, r io.Reader, name string) (Result, error) {
	start := time.Now()
	img, err := preprocess.Decode(r, s.opts.Limits)
	if err != nil {
		err = &InputError{Name: displayName(name), Err: err}
		return Result{File: name, Status: StatusError, Error: err.Error()}, err
	}
	decode := time.Since(start)
	res, err := s.Score(ctx, img)
	res.File = name
	res.Timings.Decode = ms(decode)
	res.Timings.Total = ms(time.Since(start))
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
	preprocess.DetectorInput(img, st.detIn)
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
		faces[i] = Face{DetectorBox: toBox(raw), Box: toBox(box), DetectorScore: float64(d.Score)}
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
	res.Quality = s.opts.Quality.Check(img, fromBox(chosen.Box), res.FaceCount)
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

// scoreFace crops the face for both nets by the crop policy, runs them and fills in the face's
// per-net results, probability, score and verdict.
//
// Each crop is one batch-1 run of the net, one after another through the same session and
// crop buffer: a model planned for a batch of 3 (engine.LoadOptions.Batch) gave identical
// logits and no measurable gain (BenchmarkNetCrops).
func (s *Scorer) scoreFace(ctx context.Context, st *runState, img *preprocess.Image, f *Face, tm *Timings) error {
	box := fromBox(f.Box)
	factors := multiCropFactors[:1]
	if s.opts.Crops == CropsMulti {
		factors = multiCropFactors[:]
	}
	f.Nets = make([]NetResult, len(s.nets))
	var probSum, scoreSum float64
	for n, net := range s.nets {
		_, eff := preprocess.CropWindow(box, img.Width, img.Height, net.scale)
		nr := NetResult{Name: net.name, CropScale: net.scale, EffectiveScale: eff}
		if s.opts.Crops == CropsMulti {
			nr.Crops = make([]CropScore, 0, len(factors))
		}
		for k, factor := range factors {
			t := time.Now()
			win, _ := preprocess.CropWindow(box, img.Width, img.Height, eff*factor)
			if _, err := preprocess.CropRegion(img, win, st.crop); err != nil {
				return fmt.Errorf("%s crop: %w", net.name, err)
			}
			tm.Crop += ms(time.Since(t))
			t = time.Now()
			out, err := st.nets[n].RunFloat32(ctx, st.crop)
			if err != nil {
				return fmt.Errorf("%s: %w", net.name, err)
			}
			tm.Nets += ms(time.Since(t))
			if len(out) == 0 || len(out[0]) < 3 {
				return fmt.Errorf("%s: expected 3 logits", net.name)
			}
			logits := [3]float64{float64(out[0][0]), float64(out[0][1]), float64(out[0][2])}
			cs := CropScore{ScaleFactor: factor, Logits: logits, Softmax: softmax3(logits)}
			if k == 0 {
				nr.Logits = logits
			}
			if nr.Crops != nil {
				nr.Crops = append(nr.Crops, cs)
			}
			for j := range nr.Softmax {
				nr.Softmax[j] += cs.Softmax[j] / float64(len(factors))
			}
			scoreSum += liveMargin(logits) / float64(len(factors))
		}
		probSum += nr.Softmax[1]
		f.Nets[n] = nr
	}
	f.ProbReal = probSum / float64(len(s.nets))
	f.Score = scoreSum / float64(len(s.nets))
	f.Verdict = Spoof
	if f.ProbReal >= s.opts.Threshold {
		f.Verdict = Live
	}
	return nil
}

// fail turns res into an error result; cancellation errors stay recognisable with errors.Is.
func (s *Scorer) fail(res Result, err error) (Result, error) {
	res.Status = StatusError
	res.Error = err.Error()
	res.Verdict = ""
	return res, err
}

func toBox(b preprocess.Box) Box   { return Box{X: b.X, Y: b.Y, W: b.W, H: b.H} }
func fromBox(b Box) preprocess.Box { return preprocess.Box{X: b.X, Y: b.Y, W: b.W, H: b.H} }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
