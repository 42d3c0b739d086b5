package metrics

import (
	"errors"
	"fmt"
	"strings"
)

// Label is the ground truth of a presentation. The zero Label is invalid, so that a sample whose
// label was never set is reported instead of silently counted as bona fide.
type Label uint8

const (
	BonaFide Label = iota + 1 // a live face
	Attack                    // a presentation attack (spoof)
)

// ErrLabel is returned (wrapped) for a label that is neither bona fide nor attack.
var ErrLabel = errors.New("invalid label")

// ParseLabel accepts the dev manifest's "live" and "spoof" and the standard's "bona_fide"
// ("bonafide", "bona fide") and "attack", in any case.
func ParseLabel(s string) (Label, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "live", "real", "bona_fide", "bonafide", "bona fide", "bona-fide":
		return BonaFide, nil
	case "spoof", "fake", "attack":
		return Attack, nil
	}
	return 0, fmt.Errorf("%w %q (want live/bona_fide or spoof/attack)", ErrLabel, s)
}

// String returns "bona_fide", "attack" or "invalid".
func (l Label) String() string {
	switch l {
	case BonaFide:
		return "bona_fide"
	case Attack:
		return "attack"
	}
	return "invalid"
}

// MarshalText encodes the label as its String form.
func (l Label) MarshalText() ([]byte, error) {
	if l != BonaFide && l != Attack {
		return nil, fmt.Errorf("%w %d", ErrLabel, uint8(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText decodes any form [ParseLabel] accepts.
func (l *Label) UnmarshalText(b []byte) error {
	v, err := ParseLabel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// NonResponse says why a presentation got no score. The zero value, Responded, means it got one.
type NonResponse uint8

const (
	Responded  NonResponse = iota // the presentation was scored
	NoFace                        // no face was found
	Unreadable                    // the input could not be decoded or read
)

// String returns "", "no_face" or "unreadable".
func (n NonResponse) String() string {
	switch n {
	case Responded:
		return ""
	case NoFace:
		return "no_face"
	case Unreadable:
		return "unreadable"
	}
	return fmt.Sprintf("non_response_%d", uint8(n))
}

// UnknownSpecies is the PAI species of an attack presentation whose attack type is not recorded.
const UnknownSpecies = "unknown"

// Species returns the PAI species name used for an attack type: trimmed, lower case, and
// [UnknownSpecies] when empty.
func Species(attackType string) string {
	s := strings.ToLower(strings.TrimSpace(attackType))
	if s == "" {
		return UnknownSpecies
	}
	return s
}

// Sample is one labelled presentation and what the detector made of it.
type Sample struct {
	ID      string // names the presentation in error messages, e.g. its file path
	Label   Label
	Species string // PAI species (attack type) of an attack, e.g. "print"; "" means unknown; ignored for bona fide
	// Score is the liveness score, higher = more live (prob_real). It must be finite unless
	// NonResponse is set, in which case it is ignored.
	Score       float64
	NonResponse NonResponse
}
