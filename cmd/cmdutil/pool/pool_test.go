package pool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// count yields 0, 1, …, n−1.
func count(n int) func(yield func(int) bool) {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// square sleeps longer for earlier items, so they finish out of order.
func square(ctx context.Context, i int) (int, error) {
	time.Sleep(time.Duration((7*i)%5) * time.Millisecond)
	return i * i, nil
}

func TestRunOrderAndErrors(t *testing.T) {
	errScore := errors.New("models cannot be loaded")
	errWrite := errors.New("stdout closed")
	tests := []struct {
		name     string
		workers  int
		n        int
		do       func(context.Context, int) (int, error)
		emitErr  func(int) error
		want     []int // the items emitted, in order
		wantErr  error
		complete bool
	}{
		{name: "one worker", workers: 1, n: 20, do: square, want: count20(), complete: true},
		{name: "four workers keep input order", workers: 4, n: 20, do: square, want: count20(), complete: true},
		{name: "no items", workers: 3, n: 0, do: square, want: nil, complete: true},
		{name: "zero workers means one", workers: 0, n: 3, do: square, want: []int{0, 1, 2}, complete: true},
		{
			name: "a failing item stops the run before it", workers: 2, n: 20,
			do: func(ctx context.Context, i int) (int, error) {
				if i == 5 {
					return 0, errScore
				}
				return square(ctx, i)
			},
			wantErr: errScore,
		},
		{
			name: "an emit error stops the run", workers: 3, n: 20, do: square,
			emitErr: func(i int) error {
				if i == 3 {
					return errWrite
				}
				return nil
			},
			want: []int{0, 1, 2, 3}, wantErr: errWrite,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			st, err := Run(context.Background(), Options{Workers: tc.workers}, count(tc.n), tc.do, func(i, sq int) error {
				if sq != i*i {
					t.Errorf("item %d emitted with result %d", i, sq)
				}
				got = append(got, i)
				if tc.emitErr != nil {
					return tc.emitErr(i)
				}
				return nil
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Run error %v, want %v", err, tc.wantErr)
			}
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("emitted %v, want %v", got, tc.want)
			}
			if !slices.IsSorted(got) || (len(got) > 0 && got[len(got)-1] != len(got)-1) {
				t.Errorf("emitted %v: not a prefix of the input in order", got)
			}
			if tc.wantErr == errScore && slices.Contains(got, 5) {
				t.Errorf("the failed item was emitted: %v", got)
			}
			if st.Emitted != len(got) || st.Complete != tc.complete {
				t.Errorf("stats %+v, want Emitted %d, Complete %v", st, len(got), tc.complete)
			}
		})
	}
}

func count20() []int {
	var s []int
	for i := range 20 {
		s = append(s, i)
	}
	return s
}

// An interrupt emits a prefix of the input in order and nothing after the first item cut short.
func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	do := func(ctx context.Context, i int) (int, error) {
		if i == 10 {
			cancel()
		}
		if i >= 10 {
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return i, nil
	}
	var got []int
	st, err := Run(ctx, Options{Workers: 3}, count(1000), do, func(i, _ int) error {
		got = append(got, i)
		return nil
	})
	if err != nil {
		t.Fatalf("an interrupt is not an error of Run: %v", err)
	}
	if st.Complete || st.Emitted != len(got) {
		t.Errorf("stats %+v after an interrupt with %d emitted", st, len(got))
	}
	if len(got) > 10 || !slices.Equal(got, count20()[:len(got)]) {
		t.Errorf("emitted %v, want a prefix of 0…9", got)
	}
}

// The producer is read lazily: no more than Window items are taken ahead of emit.
func TestRunWindow(t *testing.T) {
	const window = 5
	var produced, emitted atomic.Int64
	items := func(yield func(int) bool) {
		for i := range 100 {
			produced.Add(1)
			if !yield(i) {
				return
			}
		}
	}
	_, err := Run(context.Background(), Options{Workers: 2, Window: window}, items, square, func(int, int) error {
		// An item is produced before it waits for a slot, hence the +1.
		if ahead := produced.Load() - emitted.Load(); ahead > window+1 {
			return fmt.Errorf("%d items produced ahead of emit, window %d", ahead, window)
		}
		emitted.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if emitted.Load() != 100 {
		t.Errorf("emitted %d of 100", emitted.Load())
	}
}

func TestProgressWarnWithoutBar(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, false)
	p.Found()
	p.Found()
	p.Done()
	p.Warn("skipped x: not an image")
	p.Finish()
	if got := buf.String(); got != "spoofsense: skipped x: not an image\n" {
		t.Errorf("stderr %q: want only the warning line", got)
	}
	if strings.Contains(buf.String(), "scoring") {
		t.Error("a bar was drawn with show false")
	}
}
