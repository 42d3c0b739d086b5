package scorer

import (
	"encoding/json"

	"github.com/spoofsense/spoofsense/preprocess"
)

// Verdict is the decision on one image.
type Verdict string

// Verdicts. NoFace and Rejected are non-responses, not spoof decisions.
const (
	Live     Verdict = "live"
	Spoof    Verdict = "spoof"
	NoFace   Verdict = "no_face"
	Rejected Verdict = "rejected" // a strict quality check failed; see Result.Quality
)

// Status says whether an input was scored at all; it is a result's "status" field.
type Status string

// Statuses. A Result's zero Status means nothing was said yet: commands fill in StatusOK for
// a result without an error.
const (
	StatusOK    Status = "ok"    // the image was read and scored, whatever the verdict
	StatusError Status = "error" // the image could not be read or decoded; Result.Error says why
)

// Result is the outcome of scoring one image. Its JSON form is the one schema every output of
// spoofsense uses (check's json/ndjson/csv, eval's score files, serve's /v1/check).
type Result struct {
	// File names the input (a path, "-" for stdin, or empty for in-memory images).
	File string `json:"file,omitempty"`
	// Status is "ok" when the image was scored (whatever the verdict) and "error" when it could
	// not be read or decoded; Error then says why.
	Status Status `json:"status"`
	Error  string `json:"error,omitempty"`

	Verdict Verdict `json:"verdict,omitempty"`
	// ProbReal is the probability that the face is live: the mean over the nets of each net's
	// live probability (NetResult.PLive).
	ProbReal float64 `json:"prob_real"`
	// Score is an unbounded liveness score that orders images as ProbReal does without
	// saturating: the mean over nets (and their crops) of logit[live] − logsumexp(the other
	// logits), which is logit[1] − logsumexp(logit[0], logit[2]) for the three-class
	// MiniFASNets and logit[0] − logit[1] for the two-class MiniFASNetV2SE-128.
	Score float64 `json:"score"`
	// Threshold is the decision threshold used: live when ProbReal ≥ Threshold.
	Threshold float64 `json:"threshold"`
	// Channel names the calibration profile channel whose threshold decided (check --profile,
	// serve --profile); "default" for the profile's default entry, absent without a profile.
	Channel string `json:"channel,omitempty"`

	// FaceCount is how many faces the detector kept after NMS.
	FaceCount int `json:"face_count"`
	// Face is the scored face (the largest one unless the policy says otherwise); nil when none.
	Face *Face `json:"face,omitempty"`
	// Faces holds every detected face's result when the face policy is "all".
	Faces []Face `json:"faces,omitempty"`

	// CropPolicy names how the crops were taken: "single" (PIPELINE §1.5) or "multi" (§1.7).
	CropPolicy string `json:"crop_policy,omitempty"`
	// BoxMode names the box geometry: "raw" UltraFace box or "mapped" to the training geometry.
	BoxMode string `json:"box_mode,omitempty"`
	// NetSet names the anti-spoof nets that scored the image, in manifest order.
	NetSet []string `json:"net_set,omitempty"`

	Quality []QualityCheck `json:"quality,omitempty"`
	Image   ImageInfo      `json:"image"`
	Timings Timings        `json:"timings_ms"`
	Models  []ModelVersion `json:"models,omitempty"`
}

// Face is one detected face and, when it was scored, its liveness.
type Face struct {
	// DetectorBox is the UltraFace box in pixels; Box is the box the crops were taken around
	// (equal to DetectorBox unless the box mode is "mapped").
	DetectorBox   preprocess.Box `json:"detector_box"`
	Box           preprocess.Box `json:"box"`
	DetectorScore float64        `json:"detector_score"`

	Verdict  Verdict     `json:"verdict,omitempty"`
	ProbReal float64     `json:"prob_real"`
	Score    float64     `json:"score"`
	Nets     []NetResult `json:"nets,omitempty"`
}

// NetResult is what one anti-spoof net said about one face.
type NetResult struct {
	Name string `json:"name"`
	// CropRule names how the net's crops are cut: "shifted-window" (the MiniFASNets) or
	// "square-reflect" (MiniFASNetV2SE-128); see models.CropRule.
	CropRule string `json:"crop_rule"`
	// CropScale is how far the net's crop enlarges the box as trained (2.7 and 4.0 for the
	// MiniFASNets, 1.5 for MiniFASNetV2SE-128); EffectiveScale is the one used, after
	// clamping to the image for the shifted-window rule (the square rule is never clamped).
	CropScale      float64 `json:"crop_scale"`
	EffectiveScale float64 `json:"effective_scale"`
	// PLive is the net's live probability: the mean over its crops of softmax[LiveIndex].
	PLive     float64 `json:"p_live"`
	LiveIndex int     `json:"live_index"`
	// Softmax is the mean over crops of the softmax of the logits: three classes for the
	// MiniFASNets (index 1 = live), two for MiniFASNetV2SE-128 (index 0 = live).
	Softmax []float64 `json:"softmax"`
	// Logits are the raw outputs for the first (full-scale) crop.
	Logits []float64   `json:"logits"`
	Crops  []CropScore `json:"crops,omitempty"`
}

// CropScore is the net's output on one crop.
type CropScore struct {
	// ScaleFactor multiplies the effective scale (1.0, 0.9, 0.8 in the multi-crop policy).
	ScaleFactor float64   `json:"scale_factor"`
	Logits      []float64 `json:"logits"`
	Softmax     []float64 `json:"softmax"`
	PLive       float64   `json:"p_live"`
}

// QualityCheck is one of the image requirements of PIPELINE §1.6, measured.
type QualityCheck struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Limit  float64 `json:"limit"`
	Passed bool    `json:"passed"`
}

// ImageInfo describes the decoded input.
type ImageInfo struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Format string `json:"format,omitempty"`
	// Orientation is the EXIF orientation tag that was applied (1 = none).
	Orientation int   `json:"exif_orientation"`
	Bytes       int64 `json:"bytes,omitempty"`
}

// Timings are the milliseconds spent in each stage.
type Timings struct {
	Decode  float64 `json:"decode"`
	Detect  float64 `json:"detect"`
	Crop    float64 `json:"crop"`
	Nets    float64 `json:"nets"`
	Quality float64 `json:"quality"`
	Total   float64 `json:"total"`
}

// ModelVersion traces a result to the exact model bytes.
type ModelVersion struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"` // first 12 hex digits
}

// Scored reports whether the result carries a liveness probability: the image was read and a
// face was found and scored (a rejected face was scored too). Errors and no_face results are not.
func (r Result) Scored() bool { return r.Status == StatusOK && r.Verdict != NoFace }

// MarshalJSON writes the result with its fields in declaration order, leaving out what was not
// measured, so a consumer cannot mistake it for a measurement: prob_real and score appear only
// when Scored (a no_face or error row with "prob_real": 0 would read as a confident spoof to
// `jq 'select(.prob_real < 0.5)'`), and an error result is just file, status and error.
// Decoding needs no counterpart: absent fields decode as zero.
func (r Result) MarshalJSON() ([]byte, error) {
	if r.Status == StatusError {
		return json.Marshal(struct {
			File   string `json:"file,omitempty"`
			Status Status `json:"status"`
			Error  string `json:"error,omitempty"`
		}{r.File, r.Status, r.Error})
	}
	// The fields declared here are shallower than resultFields' own of the same name, so they
	// replace them, in this position.
	type resultFields Result
	out := struct {
		File     string   `json:"file,omitempty"`
		Status   Status   `json:"status"`
		Error    string   `json:"error,omitempty"`
		Verdict  Verdict  `json:"verdict,omitempty"`
		ProbReal *float64 `json:"prob_real,omitempty"`
		Score    *float64 `json:"score,omitempty"`
		resultFields
	}{File: r.File, Status: r.Status, Error: r.Error, Verdict: r.Verdict, resultFields: resultFields(r)}
	if r.Scored() {
		out.ProbReal, out.Score = &r.ProbReal, &r.Score
	}
	return json.Marshal(out)
}
