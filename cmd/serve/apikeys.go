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
type keySet struct {
	digests [][sha256.Size]byte
}

func newKeySet(keys []string) keySet {
	ks := keySet{digests: make([][sha256.Size]byte, 0, len(keys))}
	for _, k := range keys {
		ks.digests = append(ks.digests, sha256.Sum256([]byte(k)))
	}
	return ks
}

// enabled says whether any key is configured; without keys the routes are open.
func (ks keySet) enabled() bool { return len(ks.digests) > 0 }

// allows reports whether key is one of the set. It compares against every key, in constant time
// and without an early exit, so the timing tells an attacker neither which key nor how much of
// it matched.
func (ks keySet) allows(key string) bool {
	d := sha256.Sum256([]byte(key))
	match := 0
	for i := range ks.digests {
		match |= subtle.ConstantTimeCompare(d[:], ks.digests[i][:])
	}
	return match == 1
}

// ParseAPIKeys reads API keys from r, one per line; blank lines and lines starting with # are
// skipped and surrounding white space is trimmed. name is used in error messages.
func ParseAPIKeys(r io.Reader, name string) ([]string, error) {
	var keys []string
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		k := strings.TrimSpace(sc.Text())
		if k == "" || strings.HasPrefix(k, "#") {
			continue
		}
		if strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s:%d: an API key must not contain white space", name, line)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return keys, nil
}

// ReadAPIKeysFile reads the keys of an --api-keys-file; a file without any key is an error, so
// that a mistake cannot silently leave the service open.
func ReadAPIKeysFile(path string) ([]string, error) {
	// Non-blocking: a FIFO without a writer reads as empty (and is refused) instead of hanging
	// the start-up where no signal can end it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("API keys file: %w", err)
	}
	defer f.Close()
	keys, err := ParseAPIKeys(f, path)
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
