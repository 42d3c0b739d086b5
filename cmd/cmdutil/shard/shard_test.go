package shard

import (
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == IndexEnv {
				return v
			}
			return ""
		}
	}
	for _, tt := range []struct {
		value, index string
		want         Shard
		err          string
	}{
		{value: "0/1", want: Shard{0, 1}},
		{value: "6/7", want: Shard{6, 7}},
		{value: "auto/50", index: "49", want: Shard{49, 50}},
		{value: "7/7", err: "K = 7 is not below N = 7"},
		{value: "3", err: "want K/N"},
		{value: "a/3", err: `K must be a whole number, not "a"`},
		{value: "-1/3", err: "K must be a whole number"},
		{value: "1/0", err: "N must be a whole number ≥ 1"},
		{value: "1/x", err: "N must be a whole number ≥ 1"},
		{value: "auto/4", err: "$JOB_COMPLETION_INDEX is not set"},
		{value: "auto/4", index: "4", err: "K ($JOB_COMPLETION_INDEX) = 4 is not below N = 4"},
		{value: "auto/4", index: "two", err: `K ($JOB_COMPLETION_INDEX) must be a whole number, not "two"`},
	} {
		t.Run(tt.value+"_"+tt.index, func(t *testing.T) {
			got, err := Parse("--shard", tt.value, env(tt.index))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "--shard ") {
					t.Fatalf("err = %v, want one starting --shard and containing %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// Every name lands in exactly one of N shards, and the shards are roughly even.
func TestShardsPartition(t *testing.T) {
	for _, n := range []uint64{1, 3, 7} {
		counts := make([]int, n)
		for i := range 7000 {
			name := fmt.Sprintf("s3://bucket/photos/%05d.jpg", i)
			taken := 0
			for k := range n {
				if (Shard{k, n}).Takes(name) {
					taken++
					counts[k]++
				}
			}
			if taken != 1 {
				t.Fatalf("N=%d: %s taken by %d shards", n, name, taken)
			}
		}
		for k, c := range counts {
			if want := 7000 / int(n); c < want*8/10 || c > want*12/10 {
				t.Errorf("N=%d: shard %d has %d names, want about %d", n, k, c, want)
			}
		}
	}
}
