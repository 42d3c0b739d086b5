package scorer

import (
	"github.com/spoofsense/spoofsense/preprocess"
)

// Names of the quality checks (PIPELINE §1.6), as they appear in Result.Quality.
const (
	CheckFaceSize     = "face_min_side_px"    // shorter side of the face box, at least Limit
	CheckBorderMargin = "face_border_margin"  // px between the face box and the nearest image border
	CheckFaceArea     = "face_area_fraction"  // face box area / image area, at least Limit
	CheckPortrait     = "portrait_aspect"     // image height / width, at least Limit
	CheckDark         = "face_brightness_min" // mean luma (0..255) in the face box, at least Limit
	CheckBright       = "face_brightness_max" // mean luma in the face box, at most Limit
	CheckSharpness    = "face_sharpness"      // variance of the Laplacian in the face box, at least Limit
	CheckOneFace      = "face_count"          // faces found, at most Limit
	CheckColour       = "face_colour"         // mean chroma (max − min of R, G, B) in the face box, at least Limit
)

// QualityLimits are the limits of the §1.6 image requirements. They are best practices of the
// replaced commercial API, reported as checks and enforced only in strict mode.
type QualityLimits struct {
	MinFaceSide     int     // 224 px
	MinBorderMargin int     // 15 px
	MinFaceArea     float64 // 0.20 of the image
	MinPortrait     float64 // height/width ≥ 1.0
	MinBrightness   float64 // mean luma ≥ 40
	MaxBrightness   float64 // mean luma ≤ 220
	MinSharpness    float64 // Laplacian variance ≥ 20
	MaxFaces        int     // 1
	// MinChroma is the least mean chroma of a colour face (8): a grey or near-grey photo of a
	// live face scores as a spoof (the nets were trained on colour photos), so it fails this
	// check and --strict rejects it. The lowest of the dev set's 660 live faces is 13.7.
	MinChroma float64
}

// DefaultQualityLimits returns the documented requirements; brightness and sharpness limits are
// ours, as the commercial documentation only asks for "well lit, no strong motion blur".
func DefaultQualityLimits() QualityLimits {
	return QualityLimits{
		MinFaceSide:     224,
		MinBorderMargin: 15,
		MinFaceArea:     0.20,
		MinPortrait:     1.0,
		MinBrightness:   40,
		MaxBrightness:   220,
		MinSharpness:    20,
		MaxFaces:        1,
		MinChroma:       8,
	}
}

// Check measures img and the face box against the limits, in a fixed order.
func (q *QualityLimits) Check(img *preprocess.Image, box preprocess.Box, faces int) []QualityCheck {
	luma := preprocess.MeanLuma(img, box)
	atLeast := func(name string, v, limit float64) QualityCheck {
		return QualityCheck{Name: name, Value: v, Limit: limit, Passed: v >= limit}
	}
	atMost := func(name string, v, limit float64) QualityCheck {
		return QualityCheck{Name: name, Value: v, Limit: limit, Passed: v <= limit}
	}
	return []QualityCheck{
		atLeast(CheckFaceSize, float64(box.MinSide()), float64(q.MinFaceSide)),
		atLeast(CheckBorderMargin, float64(preprocess.BorderDistance(box, img.Width, img.Height)), float64(q.MinBorderMargin)),
		atLeast(CheckFaceArea, preprocess.AreaFraction(box, img.Width, img.Height), q.MinFaceArea),
		atLeast(CheckPortrait, float64(img.Height)/float64(max(img.Width, 1)), q.MinPortrait),
		atLeast(CheckDark, luma, q.MinBrightness),
		atMost(CheckBright, luma, q.MaxBrightness),
		atLeast(CheckSharpness, preprocess.LaplacianVariance(img, box), q.MinSharpness),
		atMost(CheckOneFace, float64(faces), float64(q.MaxFaces)),
		atLeast(CheckColour, preprocess.MeanChroma(img, box), q.MinChroma),
	}
}

func allPassed(checks []QualityCheck) bool {
	for _, c := range checks {
		if !c.Passed {
			return false
		}
	}
	return true
}
