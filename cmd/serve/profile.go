package serve

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// ProfileError is why a calibration profile cannot be used by the server: it was made with other
// models or settings, or an API key is bound to a channel it does not have. serve exits 4 on it.
type ProfileError struct{ Err error }

func (e *ProfileError) Error() string { return e.Err.Error() }
func (e *ProfileError) Unwrap() error { return e.Err }

// checkProfileConfig refuses a profile that does not fit the scorer settings (with defaults
// filled in) and key bindings to channels the profile cannot resolve.
func checkProfileConfig(cfg Config) error {
	p := cfg.Profile
	if p == nil {
		for _, ch := range cfg.KeyChannels {
			if ch != "" {
				return &ProfileError{fmt.Errorf("serve: an API key is bound to channel %s, but there is no --profile", ch)}
			}
		}
		return nil
	}
	if err := p.Validate(); err != nil {
		return &ProfileError{fmt.Errorf("serve: profile %s: %w", cfg.ProfileFile, err)}
	}
	setup, err := profile.SetupOf(cfg.Scorer)
	if err != nil {
		return &ProfileError{fmt.Errorf("serve: %w", err)}
	}
	if err := p.Check(setup); err != nil {
		return &ProfileError{fmt.Errorf("serve: profile %s: %w", cfg.ProfileFile, err)}
	}
	var channels []string
	for _, ch := range cfg.KeyChannels {
		if ch != "" && !slices.Contains(channels, ch) {
			channels = append(channels, ch)
		}
	}
	slices.Sort(channels)
	for _, ch := range channels {
		if _, err := p.Resolve(ch); err != nil {
			return &ProfileError{fmt.Errorf("serve: API key bound to %s: profile %s: %w", ch, cfg.ProfileFile, err)}
		}
	}
	return nil
}

// channelDecision resolves the channel that decides a request: the ?channel= value, else the
// API key's. ok is false without a profile (the server's threshold decides).
func (s *Server) channelDecision(query, keyChannel string) (d profile.Decision, ok bool, aerr *apiError) {
	p := s.cfg.Profile
	if p == nil {
		if query != "" {
			return d, false, &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameter,
				Message: "channel: the server has no calibration profile (serve --profile)"}
		}
		return d, false, nil
	}
	ch := query
	if ch == "" {
		ch = keyChannel
	}
	d, err := p.Resolve(ch)
	if err != nil {
		return d, false, &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameter, Message: "channel: " + err.Error()}
	}
	return d, true, nil
}

// checkProfileOptions refuses per-request crops, box or nets that the profile was not made for.
func (s *Server) checkProfileOptions(opts scorer.Options) *apiError {
	setup, err := profile.SetupOf(opts)
	if err == nil {
		err = s.cfg.Profile.Check(setup)
	}
	if err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameter,
			Message: "the calibration profile does not fit this request's crops, box or nets: it was " + err.Error() + "; pass threshold= to decide without it"}
	}
	return nil
}

// setDecisionHeaders says which channel and threshold decided, for /antispoofing, whose body
// has the commercial schema.
func setDecisionHeaders(w http.ResponseWriter, d profile.Decision) {
	w.Header().Set("X-Spoofsense-Channel", d.Channel)
	w.Header().Set("X-Spoofsense-Threshold", strconv.FormatFloat(d.Threshold, 'g', -1, 64))
}
