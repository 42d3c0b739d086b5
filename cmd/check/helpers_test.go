package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/scorer"
)

// fakeScorer scores images deterministically from their pixels, without models: prob_real is
// a hash of the decoded pixels, in [0.6, 1) (live) unless the file name contains "spoof"
// ([0, 0.4)) or "noface" (no face). check decodes, as it does for the real scorer.
type fakeScorer struct {
	opts scorer.Options
	// maxDelay, when set, makes each image take a pseudo-random time up to it.
	maxDelay time.Duration
	// cancelOn, when it is an image's base name, cancels the run (cancel) while that image is
	// being scored and then waits for the cancellation, as Ctrl-C would.
	cancelOn string
	cancel   context.CancelFunc
	// calls, when set, counts the images scored.
	calls *atomic.Int32
	// readerCalls, when set, counts calls of ScoreReader (check should score decoded images).
	readerCalls *atomic.Int32
}

// fakeFactory returns a factory whose scorer is fs and a counter of how often it was loaded.
func fakeFactory(ios *cmdutil.IOStreams, fs *fakeScorer, loadErr error) (*cmdutil.Factory, *atomic.Int32) {
	var loads atomic.Int32
	f := &cmdutil.Factory{IOStreams: ios}
	f.NewScorer = func(ctx context.Context, opts scorer.Options) (cmdutil.ImageScorer, error) {
		loads.Add(1)
		if loadErr != nil {
			return nil, loadErr
		}
		s := *fs
		s.opts = opts
		return &s, nil
	}
	return f, &loads
}

// ScoreReader decodes as the real scorer does and scores the image.
func (s *fakeScorer) ScoreReader(ctx context.Context, r io.Reader, name string) (scorer.Result, error) {
	if s.readerCalls != nil {
		s.readerCalls.Add(1)
	}
	d, err := scorer.Decode(r, name, s.opts.Limits)
	if err != nil {
		return scorer.Result{}, err
	}
	return s.ScoreDecoded(ctx, d)
}

func (s *fakeScorer) ScoreDecoded(ctx context.Context, d scorer.Decoded) (scorer.Result, error) {
	if s.calls != nil {
		s.calls.Add(1)
	}
	name, img := d.Name, d.Image
	if filepath.Base(name) == s.cancelOn {
		s.cancel()
		<-ctx.Done()
		return scorer.Result{}, ctx.Err()
	}
	if s.maxDelay > 0 {
		d := time.Duration(rand.Int64N(int64(s.maxDelay)))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return scorer.Result{}, ctx.Err()
		}
	}
	th := s.opts.Threshold
	if th == 0 {
		th = scorer.DefaultThreshold
	}
	res := scorer.Result{
		File: name, Status: scorer.StatusOK, Threshold: th,
		Image: scorer.ImageInfo{Width: img.Width, Height: img.Height, Format: img.Format, Orientation: img.Orientation, Bytes: img.Bytes},
	}
	if strings.Contains(name, "noface") {
		res.Verdict = scorer.NoFace
		return res, nil
	}
	res.ProbReal = fakeProb(img.Pix, name)
	res.Score = math.Log(res.ProbReal / (1 - res.ProbReal))
	res.Verdict = scorer.Spoof
	if res.ProbReal >= th {
		res.Verdict = scorer.Live
	}
	res.FaceCount = 1
	box := preprocess.Box{X: img.Width / 4, Y: img.Height / 4, W: img.Width / 2, H: img.Height / 2}
	res.Face = &scorer.Face{DetectorBox: box, Box: box, DetectorScore: 0.99, Verdict: res.Verdict,
		ProbReal: res.ProbReal, Score: res.Score}
	return res, nil
}

// fakeProbOf is the fake scorer's prob_real for the encoded image data.
func fakeProbOf(t *testing.T, data []byte, name string) float64 {
	t.Helper()
	img, err := preprocess.DecodeBytes(data, preprocess.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fakeProb(img.Pix, name)
}

// fakeProb is the fake scorer's prob_real for an image's pixels.
func fakeProb(pix []byte, name string) float64 {
	h := fnv.New64a()
	h.Write(pix)
	p := float64(h.Sum64()%4000) / 10000
	if strings.Contains(name, "spoof") {
		return p
	}
	return 0.6 + p
}

// writeImage writes a small PNG (or JPEG when the name ends in .jpg) whose pixels depend on
// seed, so every file has different bytes, and returns the bytes.
func writeImage(tb testing.TB, path string, seed int) []byte {
	tb.Helper()
	data := encodeImage(tb, 24+seed%7, 16+seed%5, seed, strings.HasSuffix(path, ".jpg"))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return data
}

func encodeImage(tb testing.TB, w, h, seed int, asJPEG bool) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	img.Set(0, 0, color.RGBA{uint8(seed), uint8(seed >> 8), 0, 255})
	var buf bytes.Buffer
	var err error
	if asJPEG {
		err = jpeg.Encode(&buf, img, nil)
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// result of one command run.
type runResult struct {
	out, errOut string
	code        int
	loads       int32
}

// runCmd runs `check args...` through NewCmdCheck and checkRun with test streams, stdin
// holding stdin, and the fake scorer fs.
func runCmd(t testing.TB, ctx context.Context, fs *fakeScorer, stdin []byte, args ...string) runResult {
	t.Helper()
	ios, in, out, errOut := cmdutil.Test()
	in.Write(stdin)
	f, loads := fakeFactory(ios, fs, nil)
	return execute(t, ctx, f, loads, out, errOut, args...)
}

func execute(t testing.TB, ctx context.Context, f *cmdutil.Factory, loads *atomic.Int32, out, errOut *bytes.Buffer, args ...string) runResult {
	t.Helper()
	cmd := NewCmdCheck(f, func(o *CheckOptions) error { return checkRun(ctx, o) })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage = true
	err := cmd.ExecuteContext(ctx)
	code := cmdutil.ExitCode(err)
	var ee *cmdutil.ExitError
	if err != nil && !errors.As(err, &ee) {
		code = cmdutil.ExitUsage // as cmd.Run maps cobra's own errors
	}
	if err != nil && err.Error() != "" && (ee == nil || ee.Err != nil) {
		fmt.Fprintf(errOut, "spoofsense: %s\n", err)
	}
	return runResult{out: out.String(), errOut: errOut.String(), code: code, loads: loads.Load()}
}
