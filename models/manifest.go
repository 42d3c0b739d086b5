// Package models knows the model files spoofsense ships: their manifest (names, sha256 digests,
// sizes, upstream URLs, licences and the preprocessing each expects), where they live (an
// explicit directory, $SPOOFSENSE_MODELS, the bytes embedded in the binary, or the user cache),
// and how to pull them from an upstream URL or a mirror so that only verified bytes are ever kept
// or loaded. It knows nothing about ONNX or images.
package models

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Names of the shipped models, as Lookup accepts them.
const (
	NameMiniFASNetV2   = "MiniFASNetV2"
	NameMiniFASNetV1SE = "MiniFASNetV1SE"
	NameUltraFace      = "UltraFace-RFB-320"
	NameMiniFASNetV2SE = "MiniFASNetV2SE-128"
)

// Role says what a model does in the pipeline.
type Role string

// The roles of the shipped models.
const (
	RoleDetector  Role = "detector"  // finds faces in the whole image
	RoleAntiSpoof Role = "antispoof" // scores one face crop as live or spoof
)

// ColorOrder is the channel order of a model's input tensor.
type ColorOrder string

// Channel orders.
const (
	RGB ColorOrder = "RGB"
	BGR ColorOrder = "BGR"
)

// Input describes the tensor a model takes: value = (pixel − Mean) / Std for 8-bit pixels in
// Color order, laid out NCHW as [1, 3, Height, Width].
type Input struct {
	Name          string // graph input name
	Width, Height int
	Color         ColorOrder
	Mean, Std     float32
}

// CropRule names how an anti-spoof net's face crop is cut from the image.
type CropRule string

// Crop rules.
const (
	// CropShifted is the MiniFASNets' rule: the box enlarged by CropScale (clamped so it fits),
	// the window shifted inside the image, resized with OpenCV's INTER_LINEAR.
	CropShifted CropRule = "shifted-window"
	// CropSquareReflect is MiniFASNetV2SE-128's rule: a square of max(w, h)·CropScale around
	// the box centre, filled by reflection outside the image, resized with INTER_AREA or
	// INTER_LANCZOS4 and padded to the input size.
	CropSquareReflect CropRule = "square-reflect"
)

// Output describes an anti-spoof net's output: Classes logits, of which LiveIndex is "live"
// (the others are kinds of spoof).
type Output struct {
	Classes   int
	LiveIndex int
}

// Model is one manifest entry: a file spoofsense ships, how to check it and what it expects.
type Model struct {
	Name   string // short name, e.g. "MiniFASNetV2"
	File   string // file name in a model directory or mirror, e.g. "MiniFASNetV2.onnx"
	Role   Role
	SHA256 string // lowercase hex digest of the file; the only source of truth for its bytes
	Size   int64  // file size in bytes
	URL    string // upstream download URL
	// License is the SPDX identifier of the model's licence; LicenseFiles name the licence
	// texts a distribution embedding the model must carry.
	License      string
	LicenseFiles []string
	Input        Input
	// Crop is the rule the crop is cut by and CropScale how far the face box is enlarged
	// (anti-spoof nets only; empty and zero for the detector, which sees the whole image).
	Crop      CropRule
	CropScale float64
	Output    Output
	// Training says what is known of the data the model was trained on.
	Training string
}

// IsAntiSpoof reports whether the model is an anti-spoof net.
func (m Model) IsAntiSpoof() bool { return m.Role == RoleAntiSpoof }

// Manifest returns the shipped models: the detector first, then the anti-spoof nets in the
// order the default ensemble lists them. The slice is the caller's own.
func Manifest() []Model {
	antispoofInput := Input{Name: "input", Width: 80, Height: 80, Color: BGR, Mean: 0, Std: 1}
	antispoofLicences := []string{"LICENSE-MiniFASNet-onnx.txt", "LICENSE-Silent-Face-Anti-Spoofing.txt"}
	const silentFaceTraining = "Minivision's Silent-Face-Anti-Spoofing data (not published; upstream does not document it)"
	return []Model{
		{
			Name:         NameUltraFace,
			File:         "version-RFB-320.onnx",
			Role:         RoleDetector,
			SHA256:       "34cd7e60aeff28744c657de7a3dc64e872d506741de66987f3426f2b79f88017",
			Size:         1270727,
			URL:          "https://raw.githubusercontent.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB/dffdddda9794a50607cba8f318507a28c1c27cab/models/onnx/version-RFB-320.onnx",
			License:      "MIT",
			LicenseFiles: []string{"LICENSE-UltraFace.txt"},
			Input:        Input{Name: "input", Width: 320, Height: 240, Color: RGB, Mean: 127, Std: 128},
			Training:     "WIDER FACE (face detection, not liveness)",
		},
		{
			Name:         NameMiniFASNetV2,
			File:         "MiniFASNetV2.onnx",
			Role:         RoleAntiSpoof,
			SHA256:       "4eed38f0bde33c9b805942a5f25e42ce1161e2bda545254be622be957727794e",
			Size:         1743561,
			URL:          "https://github.com/yakhyo/face-anti-spoofing/releases/download/weights/MiniFASNetV2.onnx",
			License:      "Apache-2.0",
			LicenseFiles: antispoofLicences,
			Input:        antispoofInput,
			Crop:         CropShifted,
			CropScale:    2.7,
			Output:       Output{Classes: 3, LiveIndex: 1},
			Training:     silentFaceTraining,
		},
		{
			Name:         NameMiniFASNetV1SE,
			File:         "MiniFASNetV1SE.onnx",
			Role:         RoleAntiSpoof,
			SHA256:       "d819a69bac6b9ade2a0f4d9b60b618e1260f7bf3ba1fddff6c5d82131cb1083f",
			Size:         1742315,
			URL:          "https://github.com/yakhyo/face-anti-spoofing/releases/download/weights/MiniFASNetV1SE.onnx",
			License:      "Apache-2.0",
			LicenseFiles: antispoofLicences,
			Input:        antispoofInput,
			Crop:         CropShifted,
			CropScale:    4.0,
			Output:       Output{Classes: 3, LiveIndex: 1},
			Training:     silentFaceTraining,
		},
		{
			Name:         NameMiniFASNetV2SE,
			File:         "MiniFASNetV2SE-128.onnx",
			Role:         RoleAntiSpoof,
			SHA256:       "af2381b88f38769222ed93379e12444e2a50814575de1c46170de570c55a42b6",
			Size:         1912594,
			URL:          "https://raw.githubusercontent.com/johnraivenolazo/face-antispoof-onnx/2b9830bb0eccafddcf0abcedf5c6ad506f0a1142/models/best/98.20/best_model.onnx",
			License:      "Apache-2.0",
			LicenseFiles: []string{"LICENSE-face-antispoof-onnx.txt"},
			Input:        Input{Name: "input", Width: 128, Height: 128, Color: RGB, Mean: 0, Std: 255},
			Crop:         CropSquareReflect,
			CropScale:    1.5,
			Output:       Output{Classes: 2, LiveIndex: 0},
			Training: "CelebA-Spoof, whose authors licence it for non-commercial research only " +
				"(the weights are Apache-2.0); leave this net out with --nets MiniFASNetV2,MiniFASNetV1SE",
		},
	}
}

// AntiSpoofNames returns the names of the shipped anti-spoof nets in manifest order: the
// default ensemble.
func AntiSpoofNames() []string {
	var names []string
	for _, m := range Manifest() {
		if m.IsAntiSpoof() {
			names = append(names, m.Name)
		}
	}
	return names
}

// Lookup finds a shipped model by its short name or its file name, ignoring case.
func Lookup(name string) (Model, bool) {
	for _, m := range Manifest() {
		if strings.EqualFold(name, m.Name) || strings.EqualFold(name, m.File) {
			return m, true
		}
	}
	return Model{}, false
}

// Verify checks b against the model's size and sha256. A mismatch wraps ErrChecksum and names
// the expected and actual size or digest.
func (m Model) Verify(b []byte) error {
	sum := sha256.Sum256(b)
	return m.check(int64(len(b)), hex.EncodeToString(sum[:]), false)
}

// check compares a size and hex digest with the manifest. Digests are shortened in the message
// unless full is set.
func (m Model) check(size int64, digest string, full bool) error {
	show := func(d string) string {
		if full || len(d) <= 16 {
			return d
		}
		return d[:16] + "…"
	}
	if size != m.Size {
		return &mismatchError{fmt.Sprintf("wrong size (want %d bytes, got %d)", m.Size, size)}
	}
	if digest != m.SHA256 {
		return &mismatchError{fmt.Sprintf("sha256 mismatch (want %s, got %s)", show(m.SHA256), show(digest))}
	}
	return nil
}

// mismatchError is a size or digest mismatch; it matches ErrChecksum.
type mismatchError struct{ detail string }

func (e *mismatchError) Error() string        { return e.detail }
func (e *mismatchError) Is(target error) bool { return target == ErrChecksum }
