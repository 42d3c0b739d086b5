package modelscmd

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/models/fixtures"
)

// result is what one command run produced.
type result struct {
	code        int
	err         error
	out, errOut string
}

// run executes `spoofsense <args>` over a root that has only the global --models flag and the
// models command, mapping errors to exit codes the way cmd.Run does.
func run(t *testing.T, args []string, runF *RunFuncs, tweak func(*cmdutil.IOStreams)) result {
	t.Helper()
	ios, _, out, errOut := cmdutil.Test()
	if tweak != nil {
		tweak(ios)
	}
	f := &cmdutil.Factory{IOStreams: ios, Version: "test"}
	root := &cobra.Command{Use: "spoofsense", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.PersistentFlags().StringVar(&f.ModelsDir, "models", "", "model directory")
	root.AddCommand(NewCmdModels(f, runF))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := cmdutil.ExitCode(err)
	var ee *cmdutil.ExitError
	if err != nil && !errors.As(err, &ee) {
		code = cmdutil.ExitUsage // cobra's own argument errors, as in cmd.Run
	}
	return result{code: code, err: err, out: out.String(), errOut: errOut.String()}
}

// modelDir returns a temporary model directory holding the shared files named in good, and
// the other manifest files as given in content (nil content means absent).
func modelDir(t *testing.T, good []string, content map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range good {
		b, err := os.ReadFile(fixtures.Path(t, "models", name))
		if err != nil {
			t.Fatal(err)
		}
		content[name] = b
	}
	for name, b := range content {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFlagsReachOptions(t *testing.T) {
	t.Setenv(models.EnvMirror, "")
	tests := []struct {
		name       string
		args       []string
		env        string // $SPOOFSENSE_MODEL_MIRROR
		wantCode   int
		wantDir    string
		wantMirror string
		wantNames  []string
		wantTO     time.Duration
	}{
		{name: "pull defaults", args: []string{"models", "pull"}, wantTO: models.DefaultTimeout},
		{name: "pull flags and names", args: []string{"--models", "/m", "models", "pull", "--mirror", "/srv", "--timeout", "30s", "MiniFASNetV2", "version-RFB-320.onnx"},
			wantDir: "/m", wantMirror: "/srv", wantNames: []string{"MiniFASNetV2", "version-RFB-320.onnx"}, wantTO: 30 * time.Second},
		{name: "mirror from environment", args: []string{"models", "pull"}, env: "https://mirror.example/m", wantMirror: "https://mirror.example/m", wantTO: models.DefaultTimeout},
		{name: "flag beats environment", args: []string{"models", "pull", "--mirror", "/srv"}, env: "https://mirror.example/m", wantMirror: "/srv", wantTO: models.DefaultTimeout},
		{name: "unknown model", args: []string{"models", "pull", "ResNet"}, wantCode: cmdutil.ExitUsage},
		{name: "bad timeout", args: []string{"models", "pull", "--timeout", "0s"}, wantCode: cmdutil.ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(models.EnvMirror, tt.env)
			var got *PullOptions
			res := run(t, tt.args, &RunFuncs{Pull: func(o *PullOptions) error { got = o; return nil }}, nil)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", res.code, res.err, tt.wantCode)
			}
			if tt.wantCode != 0 {
				if got != nil {
					t.Error("run func called despite a usage error")
				}
				return
			}
			if got == nil {
				t.Fatal("run func not called")
			}
			if got.ModelsDir != tt.wantDir || got.Mirror != tt.wantMirror || got.Timeout != tt.wantTO ||
				strings.Join(got.Names, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("options %+v", got)
			}
		})
	}
}

func TestSubcommandsGetModelsDir(t *testing.T) {
	var dirs []string
	runF := &RunFuncs{
		List:   func(o *ListOptions) error { dirs = append(dirs, o.ModelsDir); return nil },
		Verify: func(o *VerifyOptions) error { dirs = append(dirs, o.ModelsDir); return nil },
		Path:   func(o *PathOptions) error { dirs = append(dirs, o.ModelsDir); return nil },
	}
	for _, sub := range []string{"list", "verify", "path"} {
		if res := run(t, []string{"models", sub, "--models", "/d/" + sub}, runF, nil); res.code != 0 {
			t.Fatalf("%s: exit %d: %v", sub, res.code, res.err)
		}
	}
	if got := strings.Join(dirs, " "); got != "/d/list /d/verify /d/path" {
		t.Errorf("ModelsDir seen: %q", got)
	}
	for _, args := range [][]string{{"models", "bogus"}, {"models", "list", "extra"}, {"models", "verify", "x"}} {
		if res := run(t, args, runF, nil); res.code != cmdutil.ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, res.code, cmdutil.ExitUsage)
		}
	}
}

func TestList(t *testing.T) {
	v1se, _ := models.Lookup(models.NameMiniFASNetV1SE)
	dir := modelDir(t, []string{"MiniFASNetV2.onnx"}, map[string][]byte{v1se.File: []byte("not a model")})
	res := run(t, []string{"models", "list", "--models", dir}, nil, nil)
	if res.code != 0 {
		t.Fatalf("exit %d: %v", res.code, res.err)
	}
	wantRows := map[string][]string{
		"UltraFace-RFB-320": {"detector", "1.2 MiB", "34cd7e60aeff…", "MIT", "missing"},
		"MiniFASNetV2":      {"antispoof", "1.7 MiB", "4eed38f0bde3…", "Apache-2.0", filepath.Join(dir, "MiniFASNetV2.onnx"), "verified"},
		"MiniFASNetV1SE":    {"antispoof", "d819a69bac6b…", "MISMATCH"},
	}
	for name, cells := range wantRows {
		line := lineWith(res.out, " "+name+" ")
		if line == "" {
			t.Errorf("no row for %s in\n%s", name, res.out)
			continue
		}
		for _, c := range cells {
			if !strings.Contains(line, c) {
				t.Errorf("row %q lacks %q", line, c)
			}
		}
	}
	for _, want := range []string{"SHA256", "LICENCE", "Licences: Apache-2.0 (MiniFASNetV2, MiniFASNetV1SE, MiniFASNetV2SE-128); MIT (UltraFace-RFB-320)",
		"MiniFASNetV2SE-128: CelebA-Spoof, whose authors licence it for non-commercial research only"} {
		if !strings.Contains(res.out, want) {
			t.Errorf("output lacks %q:\n%s", want, res.out)
		}
	}
}

// lineWith returns the first line of s containing sub.
func lineWith(s, sub string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

func TestVerify(t *testing.T) {
	all := []string{"version-RFB-320.onnx", "MiniFASNetV2.onnx", "MiniFASNetV1SE.onnx", "MiniFASNetV2SE-128.onnx"}
	v2, _ := models.Lookup(models.NameMiniFASNetV2)
	tests := []struct {
		name     string
		good     []string
		content  map[string][]byte
		wantCode int
		wantErr  []string
	}{
		{name: "all verified", good: all},
		{name: "one truncated", good: []string{"version-RFB-320.onnx", "MiniFASNetV1SE.onnx", "MiniFASNetV2SE-128.onnx"},
			content:  map[string][]byte{v2.File: make([]byte, 10)},
			wantCode: cmdutil.ExitFail,
			wantErr:  []string{"model MiniFASNetV2.onnx in ", "wrong size (want 1743561 bytes, got 10)", "run: spoofsense models pull --models "}},
		{name: "one tampered", good: []string{"version-RFB-320.onnx", "MiniFASNetV1SE.onnx", "MiniFASNetV2SE-128.onnx"},
			content:  map[string][]byte{v2.File: make([]byte, v2.Size)},
			wantCode: cmdutil.ExitFail,
			wantErr:  []string{"model MiniFASNetV2.onnx in ", "sha256 mismatch (want 4eed38f0bde33c9b…, got "}},
		{name: "two missing", good: []string{"MiniFASNetV2.onnx", "MiniFASNetV2SE-128.onnx"},
			wantCode: cmdutil.ExitFail,
			wantErr:  []string{"2 models failed verification: version-RFB-320.onnx, MiniFASNetV1SE.onnx: run: spoofsense models pull"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.content == nil {
				tt.content = map[string][]byte{}
			}
			dir := modelDir(t, tt.good, tt.content)
			res := run(t, []string{"--models", dir, "models", "verify"}, nil, nil)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", res.code, res.err, tt.wantCode)
			}
			for _, f := range tt.good {
				if !strings.Contains(res.out, "ok      "+f+"  "+filepath.Join(dir, f)) {
					t.Errorf("stdout lacks ok line for %s:\n%s", f, res.out)
				}
			}
			if tt.wantCode == 0 {
				return
			}
			msg := res.err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Count(res.out, "FAILED") != len(models.Manifest())-len(tt.good) {
				t.Errorf("stdout:\n%s", res.out)
			}
		})
	}
}

func TestPath(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	tests := []struct {
		name, env string
		args      []string
		want      string
	}{
		{"flag", "/env", []string{"--models", "/flag", "models", "path"}, "/flag"},
		{"environment", "/env", []string{"models", "path"}, "/env"},
		{"user cache", "", []string{"models", "path"}, filepath.Join(cache, "spoofsense", "models")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(models.EnvModels, tt.env)
			res := run(t, tt.args, nil, nil)
			if res.code != 0 || res.out != tt.want+"\n" {
				t.Errorf("exit %d, stdout %q; want %q", res.code, res.out, tt.want+"\n")
			}
		})
	}
}

func TestPull(t *testing.T) {
	t.Setenv(models.EnvMirror, "")
	shared := fixtures.Path(t, "models")
	okServer := httptest.NewServer(http.FileServer(http.Dir(shared)))
	t.Cleanup(okServer.Close)
	wrong := bytes.Repeat([]byte{1}, 1270727) // the detector's size, other bytes
	wrongServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(wrong) }))
	t.Cleanup(wrongServer.Close)

	tests := []struct {
		name       string
		mirror     string
		mirrorEnv  string
		tty        bool
		names      []string
		wantCode   int
		wantErr    string
		wantPulled []string
	}{
		{name: "directory mirror", mirror: shared, wantPulled: []string{"version-RFB-320.onnx", "MiniFASNetV2.onnx", "MiniFASNetV1SE.onnx", "MiniFASNetV2SE-128.onnx"}},
		{name: "URL mirror from environment, with progress bar", mirrorEnv: okServer.URL, tty: true, wantPulled: []string{"version-RFB-320.onnx", "MiniFASNetV2.onnx", "MiniFASNetV1SE.onnx", "MiniFASNetV2SE-128.onnx"}},
		{name: "one model", mirror: okServer.URL, names: []string{"MiniFASNetV1SE"}, wantPulled: []string{"MiniFASNetV1SE.onnx"}},
		{name: "wrong bytes refused", mirror: wrongServer.URL, wantCode: cmdutil.ExitFail,
			wantErr: "pull version-RFB-320.onnx from " + wrongServer.URL + "/version-RFB-320.onnx: sha256 mismatch (want 34cd7e60aeff28744c657de7a3dc64e872d506741de66987f3426f2b79f88017, got "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(models.EnvMirror, tt.mirrorEnv)
			dir := filepath.Join(t.TempDir(), "models")
			args := append([]string{"--models", dir, "models", "pull"}, tt.names...)
			if tt.mirror != "" {
				args = append(args, "--mirror", tt.mirror)
			}
			tweak := func(ios *cmdutil.IOStreams) { ios.StderrTTY = tt.tty }
			res := run(t, args, nil, tweak)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d; stderr:\n%s", res.code, res.err, tt.wantCode, res.errOut)
			}
			if tt.wantCode != 0 {
				if !strings.Contains(res.err.Error(), tt.wantErr) {
					t.Errorf("error %q lacks %q", res.err, tt.wantErr)
				}
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Errorf("refused pull left %d files", len(ents))
				}
				return
			}
			if res.out != "" {
				t.Errorf("pull wrote to stdout: %q", res.out)
			}
			for _, f := range tt.wantPulled {
				if !strings.Contains(res.errOut, f+": pulled from ") {
					t.Errorf("stderr lacks the pull of %s:\n%s", f, res.errOut)
				}
			}
			if tt.tty == !strings.Contains(res.errOut, "\r") {
				t.Errorf("progress bar drawn=%v, want %v", !tt.tty, tt.tty)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != len(tt.wantPulled) {
				t.Errorf("directory holds %d files, want %d", len(ents), len(tt.wantPulled))
			}
			// A second pull finds everything verified and fetches nothing.
			again := run(t, args, nil, nil)
			if again.code != 0 || strings.Count(again.errOut, "already verified in "+dir) != len(tt.wantPulled) {
				t.Errorf("second pull: exit %d, stderr:\n%s", again.code, again.errOut)
			}
			verify := run(t, []string{"--models", dir, "models", "verify"}, nil, nil)
			if len(tt.wantPulled) == 3 && verify.code != 0 {
				t.Errorf("verify after pull: exit %d: %v", verify.code, verify.err)
			}
		})
	}
}

func TestLicensesPrintsEveryText(t *testing.T) {
	ios, _, out, _ := cmdutil.Test()
	if err := licensesRun(&LicensesOptions{IO: ios}); err != nil {
		t.Fatal(err)
	}
	for _, m := range models.Manifest() {
		for _, f := range m.LicenseFiles {
			if !strings.Contains(out.String(), "==> "+f) {
				t.Errorf("output lacks %s", f)
			}
		}
	}
	if !strings.Contains(out.String(), "Apache License") || !strings.Contains(out.String(), "MIT") {
		t.Error("licence texts missing from the output")
	}
}

// TestPullReplacesAlteredFile: a file of the right size but other bytes in the target
// directory is not "already verified": pull fetches the model again and the file verifies.
func TestPullReplacesAlteredFile(t *testing.T) {
	t.Setenv(models.EnvMirror, "")
	dir := filepath.Join(t.TempDir(), "models")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	v2, _ := models.Lookup(models.NameMiniFASNetV2)
	if err := os.WriteFile(filepath.Join(dir, v2.File), make([]byte, v2.Size), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, []string{"--models", dir, "models", "pull", "MiniFASNetV2", "--mirror", fixtures.Path(t, "models")}, nil, nil)
	if res.code != 0 || !strings.Contains(res.errOut, v2.File+": pulled from ") {
		t.Fatalf("exit %d (%v), stderr %q: want the altered file pulled again", res.code, res.err, res.errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, v2.File))
	if err != nil || v2.Verify(b) != nil {
		t.Errorf("after pull the file does not verify: %v", err)
	}
}
