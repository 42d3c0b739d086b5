// Package shard picks a stable 1/N of a run's inputs, so that the N pods of a Kubernetes Indexed
// Job (or any N processes given the same inputs) score each input exactly once without talking
// to each other: input name belongs to shard FNV-1a-64(name) mod N.
package shard

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// IndexEnv is the variable a Kubernetes Indexed Job sets to the pod's completion index, which
// --shard auto/N takes as K.
const IndexEnv = "JOB_COMPLETION_INDEX"

// Shard is shard K of N; the zero value (N = 0) means no sharding: every input is taken.
type Shard struct {
	K, N uint64
}

// Parse reads a --shard value: "K/N" with 0 ≤ K < N, or "auto/N", which takes K from
// getenv(IndexEnv). flag names the flag in errors.
func Parse(flag, value string, getenv func(string) string) (Shard, error) {
	ks, ns, ok := strings.Cut(value, "/")
	if !ok {
		return Shard{}, fmt.Errorf("%s %q: want K/N (shard K of N, 0 ≤ K < N) or auto/N (K from $%s)", flag, value, IndexEnv)
	}
	n, err := strconv.ParseUint(ns, 10, 32)
	if err != nil || n == 0 {
		return Shard{}, fmt.Errorf("%s %q: N must be a whole number ≥ 1, not %q", flag, value, ns)
	}
	from := ""
	if ks == "auto" {
		ks = getenv(IndexEnv)
		if ks == "" {
			return Shard{}, fmt.Errorf("%s %s: $%s is not set (auto is for the pods of a Kubernetes Indexed Job; elsewhere give K/N)", flag, value, IndexEnv)
		}
		from = fmt.Sprintf(" ($%s)", IndexEnv)
	}
	k, err := strconv.ParseUint(ks, 10, 32)
	if err != nil {
		return Shard{}, fmt.Errorf("%s %s: K%s must be a whole number, not %q", flag, value, from, ks)
	}
	if k >= n {
		return Shard{}, fmt.Errorf("%s %s: K%s = %d is not below N = %d (shards are numbered 0 to N-1)", flag, value, from, k, n)
	}
	return Shard{K: k, N: n}, nil
}

// Of returns the shard index of name among n shards.
func Of(name string, n uint64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64() % n
}

// Takes reports whether name belongs to s (always, for the zero Shard).
func (s Shard) Takes(name string) bool {
	return s.N <= 1 || Of(name, s.N) == s.K
}

// String is "K/N", or "" for the zero Shard.
func (s Shard) String() string {
	if s.N == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}
