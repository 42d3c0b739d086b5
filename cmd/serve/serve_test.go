package serve

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/scorer"
)

// parseServe runs the command's flag and environment handling and returns the options runF got.
func parseServe(t *testing.T, env map[string]string, args ...string) (*ServeOptions, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	ios, _, _, _ := cmdutil.Test()
	var got *ServeOptions
	cmd := NewCmdServe(&cmdutil.Factory{IOStreams: ios, Version: "v1"}, func(o *ServeOptions) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

func TestServeFlags(t *testing.T) {
	// Variables a developer may have set must not leak into the test.
	for _, k := range []string{"SPOOFSENSE_ADDR", "SPOOFSENSE_API_KEYS", "SPOOFSENSE_QUEUE", "SPOOFSENSE_LOG_FORMAT", "SPOOFSENSE_HEALTHCHECK"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		check    func(*ServeOptions) bool
		wantCode int // exit code of the error; 0 = no error
	}{
		{"defaults", nil, nil, func(o *ServeOptions) bool {
			return o.Addr == "127.0.0.1:8080" && o.LogFormat == "text" && o.Queue == 64 && o.MaxBodyBytes == 10485760 &&
				o.Threshold == 0.55 && o.Faces == "largest" && o.Crops == "multi" && o.ShutdownTimeout == 30*time.Second &&
				o.DrainDelay == 0 && len(o.APIKeys) == 0 && o.Version == "v1"
		}, 0},
		{"flags", nil, []string{"--addr", "0.0.0.0:9000", "--log-format", "json", "--max-inflight", "3", "--queue", "0", "--threshold", "0.7", "--crops", "multi"},
			func(o *ServeOptions) bool {
				return o.Addr == "0.0.0.0:9000" && o.LogFormat == "json" && o.MaxInflight == 3 && o.Queue == 0 && o.Threshold == 0.7 && o.Crops == "multi"
			}, 0},
		{"environment", map[string]string{"SPOOFSENSE_ADDR": ":7000", "SPOOFSENSE_API_KEYS": "a, b,,c", "SPOOFSENSE_SHUTDOWN_TIMEOUT": "5s", "SPOOFSENSE_API_KEYS_FILE": "/k", "SPOOFSENSE_DRAIN_DELAY": "3s"}, nil,
			func(o *ServeOptions) bool {
				return o.Addr == ":7000" && slices.Equal(o.APIKeys, []string{"a", "b", "c"}) && o.ShutdownTimeout == 5*time.Second && o.APIKeysFile == "/k" &&
					o.DrainDelay == 3*time.Second
			}, 0},
		{"flag beats environment", map[string]string{"SPOOFSENSE_ADDR": ":7000"}, []string{"--addr", ":7001"},
			func(o *ServeOptions) bool { return o.Addr == ":7001" }, 0},
		{"healthcheck is not taken from the environment", map[string]string{"SPOOFSENSE_HEALTHCHECK": "http://x"}, nil,
			func(o *ServeOptions) bool { return o.Healthcheck == "" }, 0},
		{"API keys variable set but empty", map[string]string{"SPOOFSENSE_API_KEYS": ""}, nil, nil, cmdutil.ExitUsage},
		{"API keys variable of blanks and commas", map[string]string{"SPOOFSENSE_API_KEYS": " , ,"}, nil, nil, cmdutil.ExitUsage},
		{"API keys file variable set but empty", map[string]string{"SPOOFSENSE_API_KEYS_FILE": ""}, nil, nil, cmdutil.ExitUsage},
		{"API keys file flag empty", nil, []string{"--api-keys-file", ""}, nil, cmdutil.ExitUsage},
		{"bad environment value", map[string]string{"SPOOFSENSE_QUEUE": "many"}, nil, nil, cmdutil.ExitUsage},
		{"bad log format", nil, []string{"--log-format", "xml"}, nil, cmdutil.ExitUsage},
		{"bad faces", nil, []string{"--faces", "some"}, nil, cmdutil.ExitUsage},
		{"bad threshold", nil, []string{"--threshold", "1.5"}, nil, cmdutil.ExitUsage},
		{"NaN threshold", nil, []string{"--threshold", "NaN"}, nil, cmdutil.ExitUsage},
		{"subnormal threshold", nil, []string{"--threshold", "1e-320"}, nil, cmdutil.ExitUsage},
		{"zero threshold", nil, []string{"--threshold", "0"}, nil, cmdutil.ExitUsage},
		{"bad max-inflight", nil, []string{"--max-inflight", "0"}, nil, cmdutil.ExitUsage},
		{"bad shutdown timeout", nil, []string{"--shutdown-timeout", "0s"}, nil, cmdutil.ExitUsage},
		{"negative drain delay", nil, []string{"--drain-delay", "-1s"}, nil, cmdutil.ExitUsage},
		{"no arguments", nil, []string{"extra"}, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseServe(t, tt.env, tt.args...)
			switch {
			case tt.wantCode == 0 && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantCode == 0:
				if !tt.check(o) {
					t.Errorf("options %+v", *o)
				}
			case err == nil:
				t.Fatalf("no error, want one")
			case tt.wantCode > 0 && cmdutil.ExitCode(err) != tt.wantCode:
				t.Errorf("exit code %d (%v), want %d", cmdutil.ExitCode(err), err, tt.wantCode)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{"addr": "SPOOFSENSE_ADDR", "api-keys-file": "SPOOFSENSE_API_KEYS_FILE", "max-inflight": "SPOOFSENSE_MAX_INFLIGHT"} {
		if got := EnvName(flag); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flag, got, want)
		}
	}
}

func TestParseAPIKeys(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		wantErr  string
	}{
		{"keys, comments, blanks", "# production\nkey-1\n\n  key-2  \r\n#key-3\n", []string{"key-1", "key-2"}, ""},
		{"empty", "# nothing\n", nil, ""},
		{"space inside a key", "key one\n", nil, "keys.txt:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAPIKeys(strings.NewReader(tt.in), "keys.txt")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("# no keys yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAPIKeysFile(empty); err == nil || !strings.Contains(err.Error(), "holds no key") {
		t.Errorf("empty keys file: %v, want an error", err)
	}
	if _, err := ReadAPIKeysFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing keys file: no error")
	}
}

func TestKeySet(t *testing.T) {
	ks := newKeySet([]string{"alpha", "beta"}, nil)
	for key, want := range map[string]bool{"alpha": true, "beta": true, "": false, "alph": false, "alphaa": false, "gamma": false} {
		if got := ks.allows(key); got != want {
			t.Errorf("allows(%q) = %v, want %v", key, got, want)
		}
	}
	if newKeySet(nil, nil).enabled() {
		t.Error("an empty key set is enabled")
	}
}

// The whole command: flags and environment to a listening server, then SIGTERM (the context)
// to a clean exit.
func TestServeCommandEndToEnd(t *testing.T) {
	keysFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keysFile, []byte("# keys\nfile-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SPOOFSENSE_API_KEYS", "env-key")
	fake := newFakeControl()
	logs := &syncBuffer{}
	f := &cmdutil.Factory{
		IOStreams: &cmdutil.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: logs},
		Version:   "v9",
		NewScorer: func(ctx context.Context, o scorer.Options) (cmdutil.ImageScorer, error) {
			return fake.newScorer(ctx, o)
		},
	}
	cmd := NewCmdServe(f, nil)
	cmd.SetArgs([]string{"--addr", "127.0.0.1:0", "--log-format", "json", "--api-keys-file", keysFile})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	addrRE := regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
	var base string
	waitFor(t, "the listening log line", func() bool {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			base = "http://" + m[1]
			return true
		}
		return false
	})
	waitFor(t, "readiness", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	for key, want := range map[string]int{"file-key": 200, "env-key": 200, "": 401} {
		req, _ := http.NewRequest(http.MethodPost, base+"/antispoofing", strings.NewReader(b64JSON(imgLive)))
		req.Header.Set("x-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("key %q: status %d, want %d", key, resp.StatusCode, want)
		}
	}
	resp, err := http.Get(base + "/version")
	if err != nil {
		t.Fatal(err)
	}
	var v versionResponse
	err = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if err != nil || v.Version != "v9" {
		t.Errorf("version %+v, %v; want v9", v, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after cancellation: %v, want nil (exit 0)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped line in the log:\n%s", logs)
	}
}

func TestHealthcheckFlag(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(status.Load())) }))
	defer probe.Close()
	run := func() error {
		ios, _, _, _ := cmdutil.Test()
		cmd := NewCmdServe(&cmdutil.Factory{IOStreams: ios}, nil)
		cmd.SetArgs([]string{"--healthcheck", probe.URL + "/readyz"})
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		return cmd.ExecuteContext(context.Background())
	}
	if err := run(); err != nil {
		t.Errorf("healthy: %v", err)
	}
	status.Store(http.StatusServiceUnavailable)
	if err := run(); cmdutil.ExitCode(err) != cmdutil.ExitFail {
		t.Errorf("unhealthy: %v (exit %d), want exit 1", err, cmdutil.ExitCode(err))
	}
	probe.Close()
	if err := run(); cmdutil.ExitCode(err) != cmdutil.ExitFail {
		t.Errorf("nothing listening: %v, want exit 1", err)
	}
}

// A server whose models do not load stops with exit 4 (could not run) and the load error, not
// with a usage error: the flags were fine, the installation is not.
func TestServeModelsFail(t *testing.T) {
	ios, _, _, errOut := cmdutil.Test()
	f := &cmdutil.Factory{IOStreams: ios, NewScorer: func(context.Context, scorer.Options) (cmdutil.ImageScorer, error) {
		return nil, errors.New("model MiniFASNetV2.onnx: sha256 mismatch")
	}}
	cmd := NewCmdServe(f, nil)
	cmd.SetArgs([]string{"--addr", "127.0.0.1:0"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(t.Context())
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitCannotRun || !strings.Contains(err.Error(), "load models: model MiniFASNetV2.onnx: sha256 mismatch") {
		t.Errorf("exit %d, err %v; want 4 and the load error", code, err)
	}
	if !strings.Contains(errOut.String(), "warm-up failed") {
		t.Errorf("log %q does not say the warm-up failed", errOut.String())
	}
}
