package check

import (
	"context"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/report"
	"github.com/spoofsense/spoofsense/scorer"
)

func TestNewCmdCheckFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      string
		stdoutTTY bool
		wantErr   string // substring of the usage error; "" = no error
		check     func(t *testing.T, o *CheckOptions)
	}{
		{name: "defaults", args: "a.jpg", check: func(t *testing.T, o *CheckOptions) {
			if o.Format != report.NDJSON || o.Workers != runtime.NumCPU() || o.Scorer.Threshold != scorer.DefaultThreshold ||
				o.Scorer.Faces != scorer.FacesLargest || o.Scorer.Box != scorer.BoxRaw || o.Scorer.Crops != "" ||
				o.Scorer.Strict || o.Quiet || o.ExitZero || o.Annotate != "" || len(o.Paths) != 1 {
				t.Errorf("defaults = %+v", o)
			}
		}},
		{name: "table on a terminal", args: "a.jpg", stdoutTTY: true, check: func(t *testing.T, o *CheckOptions) {
			if o.Format != report.Table {
				t.Errorf("format = %s, want table", o.Format)
			}
		}},
		{name: "explicit format on a terminal", args: "-o json a.jpg", stdoutTTY: true, check: func(t *testing.T, o *CheckOptions) {
			if o.Format != report.JSON {
				t.Errorf("format = %s, want json", o.Format)
			}
		}},
		{name: "everything", args: "-o csv --workers 3 --threshold 0.7 --strict --faces all --crops multi --box mapped " +
			"--nets minifasnetv1se,MiniFASNetV2 " +
			"--annotate out -q --exit-zero --include *.png --include *.jpg --exclude tmp --hidden a b",
			check: func(t *testing.T, o *CheckOptions) {
				want := scorer.Options{Threshold: 0.7, Strict: true, Faces: scorer.FacesAll, Crops: scorer.CropsMulti, Box: scorer.BoxMapped,
					Nets: []string{"MiniFASNetV2", "MiniFASNetV1SE"}}
				if !reflect.DeepEqual(o.Scorer, want) {
					t.Errorf("scorer options = %+v, want %+v", o.Scorer, want)
				}
				if o.Format != report.CSV || o.Workers != 3 || o.Annotate != "out" || !o.Quiet || !o.ExitZero ||
					!o.Hidden || strings.Join(o.Include, ",") != "*.png,*.jpg" || strings.Join(o.Exclude, ",") != "tmp" ||
					strings.Join(o.Paths, ",") != "a,b" {
					t.Errorf("options = %+v", o)
				}
			}},
		{name: "files-from NUL", args: "--files-from list -0", check: func(t *testing.T, o *CheckOptions) {
			if o.FilesFrom != "list" || !o.NullSeparated || len(o.Paths) != 0 {
				t.Errorf("options = %+v", o)
			}
		}},
		{name: "stdin", args: "-", check: func(t *testing.T, o *CheckOptions) {
			if len(o.Paths) != 1 || o.Paths[0] != "-" {
				t.Errorf("paths = %q", o.Paths)
			}
		}},
		{name: "no path", args: "", wantErr: "no PATH"},
		{name: "stdin twice", args: "- -", wantErr: "stdin"},
		{name: "stdin and files-from stdin", args: "--files-from - -", wantErr: "stdin"},
		{name: "null without files-from", args: "-0 a.jpg", wantErr: "--files-from"},
		{name: "zero workers", args: "--workers 0 a.jpg", wantErr: "--workers"},
		{name: "threshold above 1", args: "--threshold 1.5 a.jpg", wantErr: "--threshold"},
		{name: "threshold 0", args: "--threshold 0 a.jpg", wantErr: "--threshold"},
		{name: "threshold NaN", args: "--threshold NaN a.jpg", wantErr: "--threshold"},
		{name: "threshold subnormal", args: "--threshold 1e-320 a.jpg", wantErr: "--threshold"},
		{name: "unknown format", args: "-o xml a.jpg", wantErr: "--output"},
		{name: "unknown faces", args: "--faces some a.jpg", wantErr: "--faces"},
		{name: "unknown crops", args: "--crops triple a.jpg", wantErr: "--crops"},
		{name: "unknown net", args: "--nets MiniFASNetV3 a.jpg", wantErr: `--nets "MiniFASNetV3": unknown net`},
		{name: "unknown box", args: "--box square a.jpg", wantErr: "--box"},
		{name: "bad glob", args: "--include [ a.jpg", wantErr: "--include"},
		{name: "annotate to stdout", args: "--annotate - a.jpg", wantErr: "--annotate"},
		{name: "quiet and progress", args: "-q --progress a.jpg", wantErr: "quiet"},
		{name: "unknown flag", args: "--frobnicate a.jpg", wantErr: "frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := cmdutil.Test()
			ios.StdoutTTY = tt.stdoutTTY
			f := &cmdutil.Factory{IOStreams: ios}
			f.NewScorer = func(context.Context, scorer.Options) (cmdutil.ImageScorer, error) {
				t.Error("flag parsing loaded the scorer")
				return nil, errors.New("no")
			}
			var got *CheckOptions
			cmd := NewCmdCheck(f, func(o *CheckOptions) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one mentioning %q", err, tt.wantErr)
				}
				var ee *cmdutil.ExitError
				if errors.As(err, &ee) && ee.Code != cmdutil.ExitUsage {
					t.Errorf("exit code %d, want %d", ee.Code, cmdutil.ExitUsage)
				}
				if got != nil {
					t.Error("runF called despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("runF not called")
			}
			tt.check(t, got)
		})
	}
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	ios, _, _, _ := cmdutil.Test()
	cmd := NewCmdCheck(&cmdutil.Factory{IOStreams: ios}, nil)
	for _, code := range []string{"0 ", "1 ", "2 ", "3 ", "130"} {
		if !strings.Contains(cmd.Long, "\n  "+code) {
			t.Errorf("Long help does not document exit code %q", code)
		}
	}
}
