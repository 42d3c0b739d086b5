package serve

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// keySet is the set of API keys the POST routes accept. Keys are kept as SHA-256 digests so that
// every comparison is between equal-length values and takes the same time whatever the key.
// channels holds each key's calibration profile channel ("" when it is bound to none).
type keySet struct {
	digests  [][sha256.Size]byte
	channels []string
}

// newKeySet makes the set of keys; channels maps a key to its channel (nil: none bound).
func newKeySet(keys []string, channels map[string]string) keySet {
	ks := keySet{digests: make([][sha256.Size]byte, 0, len(keys))}
	for _, k := range keys {
		ks.digests = append(ks.digests, sha256.Sum256([]byte(k)))
		ks.channels = append(ks.channels, channels[k])
	}
	return ks
}

// enabled says whether any key is configured; without keys the routes are open.
func (ks keySet) enabled() bool { return len(ks.digests) > 0 }

// allows reports whether key is one of the set. It compares against every key, in constant time
// and without an early exit, so the timing tells an attacker neither which key nor how much of
// it matched.
func (ks keySet) allows(key string) bool {
	_, ok := ks.lookup(key)
	return ok
}

// lookup is allows that also returns the key's channel, with the same constant-time scan.
func (ks keySet) lookup(key string) (channel string, ok bool) {
	d := sha256.Sum256([]byte(key))
	match, at := 0, 0
	for i := range ks.digests {
		eq := subtle.ConstantTimeCompare(d[:], ks.digests[i][:])
		at = subtle.ConstantTimeSelect(eq, i, at)
		match |= eq
	}
	if match != 1 {
		return "", false
	}
	return ks.channels[at], true
}

// APIKey is one line of an API keys file: the key and the calibration profile channel it is
// bound to ("" for none).
type APIKey struct {
	Key     string
	Channel string
}

// ParseAPIKeys reads API keys from r, one per line; blank lines and lines starting with # are
// skipped and surrounding white space is trimmed. name is used in error messages. A line may
// bind its key to a channel of the calibration profile (serve --profile) as
// "KEY channel=NAME"; ParseAPIKeys returns the keys, ParseAPIKeyLines the bindings too.
func ParseAPIKeys(r io.Reader, name string) ([]string, error) {
	lines, err := ParseAPIKeyLines(r, name)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, l := range lines {
		keys = append(keys, l.Key)
	}
	return keys, nil
}

// ParseAPIKeyLines reads an API keys file: "KEY" or "KEY channel=NAME" per line.
func ParseAPIKeyLines(r io.Reader, name string) ([]APIKey, error) {
	var keys []APIKey
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		k := strings.TrimSpace(sc.Text())
		if k == "" || strings.HasPrefix(k, "#") {
			continue
		}
		fields := strings.Fields(k)
		key := APIKey{Key: fields[0]}
		switch {
		case len(fields) == 1:
		case len(fields) == 2 && strings.HasPrefix(fields[1], "channel=") && len(fields[1]) > len("channel="):
			key.Channel = strings.TrimPrefix(fields[1], "channel=")
		case len(fields) == 2 && strings.HasPrefix(fields[1], "channel="):
			return nil, fmt.Errorf("%s:%d: channel= names no channel", name, line)
		default:
			return nil, fmt.Errorf("%s:%d: an API key must not contain white space (a line is KEY or KEY channel=NAME)", name, line)
		}
		keys = append(keys, key)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return keys, nil
}

// ReadAPIKeysFile reads the keys of an --api-keys-file; a file without any key is an error, so
// that a mistake cannot silently leave the service open.
func ReadAPIKeysFile(path string) ([]string, error) {
	lines, err := ReadAPIKeyLines(path)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(lines))
	for i, l := range lines {
		keys[i] = l.Key
	}
	return keys, nil
}

// ReadAPIKeyLines is ReadAPIKeysFile with each key's channel.
func ReadAPIKeyLines(path string) ([]APIKey, error) {
	// Non-blocking: a FIFO without a writer reads as empty (and is refused) instead of hanging
	// the start-up where no signal can end it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("API keys file: %w", err)
	}
	defer f.Close()
	keys, err := ParseAPIKeyLines(f, path)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("API keys file %s holds no key", path)
	}
	return keys, nil
}

// SplitAPIKeys splits a comma-separated list (the SPOOFSENSE_API_KEYS form), dropping empty items.
func SplitAPIKeys(list string) []string {
	var keys []string
	for k := range strings.SplitSeq(list, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}
