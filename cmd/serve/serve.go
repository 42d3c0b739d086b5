// Package serve is `spoofsense serve`: a self-hosted REST service that scores selfies for
// presentation attacks. It speaks the commercial API's POST /antispoofing contract byte for byte,
// a richer POST /v1/check returning the scorer.Result schema, and the probes, Prometheus metrics
// and OpenAPI document a deployment needs, with API keys, bounded queues and graceful shutdown.
// All of spoofsense's HTTP serving lives here.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// EnvPrefix prefixes the environment variable of every flag: --api-keys-file is read from
// SPOOFSENSE_API_KEYS_FILE when the flag is not given.
const EnvPrefix = "SPOOFSENSE_"

// EnvAPIKeys names the variable holding comma-separated API keys (there is no flag for them, so
// that keys never show in a process list).
const EnvAPIKeys = "SPOOFSENSE_API_KEYS"

// ServeOptions are the settings of one `spoofsense serve` run, filled from flags and the
// environment.
type ServeOptions struct {
	IO        *cmdutil.IOStreams
	Version   string
	NewScorer NewScorerFunc

	Addr        string
	APIKeysFile string
	// APIKeys come from $SPOOFSENSE_API_KEYS; the file's keys are added at run time.
	APIKeys   []string
	LogFormat string
	LogLevel  string

	MaxInflight  int
	Queue        int
	MaxBodyBytes int64
	MaxScorers   int
	MaxBuffered  int64
	MaxPixels    int64

	Threshold float64
	Faces     string
	Crops     string
	Box       string
	Nets      string
	// Profile names a calibration profile (eval --save-profile) whose channel thresholds decide.
	Profile string

	ReadTimeout     time.Duration
	RequestTimeout  time.Duration
	IdleTimeout     time.Duration
	ShutdownTimeout time.Duration
	DrainDelay      time.Duration

	// Healthcheck, when set, makes the run a probe instead of a server: GET this URL and exit 0
	// on 200, 1 otherwise (for container HEALTHCHECKs in images without a shell or curl).
	Healthcheck string
}

// NewCmdServe builds the serve command. runF, when not nil, receives the parsed options instead
// of running the server (flag tests).
func NewCmdServe(f *cmdutil.Factory, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{
		IO:      f.IOStreams,
		Version: f.Version,
		// Per-request options share the models loaded for the defaults.
		NewScorer: f.SharedScorers(),
	}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve liveness checks over HTTP (commercial-compatible /antispoofing and /v1/check)",
		Long: `Serve runs spoofsense as a REST service.

  POST /antispoofing   JSON {"data": "<base64 image>"}: the commercial API's contract
  POST /v1/check       raw image, multipart field "image" or JSON: the full result
                       (query: threshold, faces, crops, box, nets, channel)
  GET  /healthz /readyz /metrics /version /openapi.yaml

Every flag can also be set with an environment variable: SPOOFSENSE_ and the flag name in
upper case with dashes as underscores (SPOOFSENSE_ADDR, SPOOFSENSE_MAX_INFLIGHT, ...); a flag on
the command line wins. API keys come from --api-keys-file (one per line, # comments) and/or
SPOOFSENSE_API_KEYS (comma-separated); when any is set, the POST routes need the x-api-key header.

--profile FILE decides at the thresholds of a calibration profile (eval --save-profile): its
default entry's, /v1/check?channel=NAME at that channel's, and a key bound to a channel in the
keys file, as a line "KEY channel=NAME", at its channel's on /antispoofing (which says which in
the X-Spoofsense-Channel and X-Spoofsense-Threshold headers) and on /v1/check without
?channel= (the result says which in "channel" and "threshold"); ?threshold= still wins. A
profile made with other models, nets, --crops or --box, or a key bound to a channel the
profile does not have, stops serve at start-up (exit 4) with the reason.

The server stops on SIGINT, SIGTERM or SIGHUP (there is no reload): /readyz fails at once, it
keeps serving for --drain-delay (default 0), then stops accepting, lets in-flight requests finish
(up to --shutdown-timeout) and exits 0.`,
		Example: `  spoofsense serve --addr 127.0.0.1:8080
  SPOOFSENSE_API_KEYS=k1,k2 spoofsense serve --log-format json
  curl -s -H 'Content-Type: application/json' -d "{\"data\":\"$(base64 -w0 selfie.jpg)\"}" localhost:8080/antispoofing
  curl -s --data-binary @selfie.jpg -H 'Content-Type: image/jpeg' 'localhost:8080/v1/check?threshold=0.6'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd.Flags(), os.LookupEnv); err != nil {
				return err
			}
			if v, ok := os.LookupEnv(EnvAPIKeys); ok {
				// Set means keys are wanted: a list without one ("", " , ") is a mistake that
				// must not leave the service open, as an --api-keys-file without a key is not.
				if opts.APIKeys = SplitAPIKeys(v); len(opts.APIKeys) == 0 {
					return cmdutil.UsageError("%s is set but holds no API key; set keys (comma-separated) or unset it to serve without keys", EnvAPIKeys)
				}
			}
			if cmd.Flags().Changed("api-keys-file") && opts.APIKeysFile == "" {
				return cmdutil.UsageError("--api-keys-file (or %s) is set but empty; name a file of keys or unset it to serve without keys", EnvName("api-keys-file"))
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "`host:port` to listen on (0.0.0.0:8080 for every interface)")
	fl.StringVar(&opts.APIKeysFile, "api-keys-file", "", "`file` of API keys, one per line (# comments); requires x-api-key on POST routes")
	fl.StringVar(&opts.LogFormat, "log-format", "text", "log format: text or json")
	fl.StringVar(&opts.LogLevel, "log-level", "info", "log level: debug, info, warn or error (probe requests log at debug)")
	fl.IntVar(&opts.MaxInflight, "max-inflight", runtime.NumCPU(), "images scored at once")
	fl.IntVar(&opts.Queue, "queue", DefaultQueue, "requests that may wait for a worker beyond --max-inflight; more get 503")
	fl.Int64Var(&opts.MaxBodyBytes, "max-body", DefaultMaxBodyBytes, "largest request body in `bytes`; larger get 413")
	fl.Int64Var(&opts.MaxBuffered, "max-buffered", 0, "bytes of uploaded images held at once, being read or waiting (0: (max-inflight + queue) × max-body); more get 503")
	fl.Int64Var(&opts.MaxPixels, "max-pixels", 0, "pixels (width × height) decoded at once over all workers (0: the larger of 50 MP and max-inflight × 16 MP)")
	fl.IntVar(&opts.MaxScorers, "max-scorers", DefaultMaxScorers, "scorers kept for per-request faces/crops/box overrides")
	fl.Float64Var(&opts.Threshold, "threshold", scorer.DefaultThreshold, "decision threshold on prob_real (/antispoofing: real when >, /v1/check: live when ≥)")
	fl.StringVar(&opts.Faces, "faces", string(scorer.FacesLargest), "face policy: largest, all or reject-multiple")
	fl.StringVar(&opts.Crops, "crops", string(scorer.DefaultCrops), "crop policy: multi (three crops per net, the default: more accurate, 3× the net time) or single (one per net)")
	fl.StringVar(&opts.Box, "box", string(scorer.BoxRaw), "box geometry: raw or mapped")
	fl.StringVar(&opts.Nets, "nets", "all", "anti-spoof nets of the default (and /antispoofing): all or a comma-separated list, e.g. MiniFASNetV2,MiniFASNetV1SE")
	fl.StringVar(&opts.Profile, "profile", "", "decide at the channel thresholds of the calibration profile `FILE` (eval --save-profile)")
	fl.DurationVar(&opts.ReadTimeout, "read-timeout", DefaultReadTimeout, "time allowed to read a request, headers and body")
	fl.DurationVar(&opts.RequestTimeout, "request-timeout", DefaultRequestTimeout, "time allowed for the queue wait plus the inference")
	fl.DurationVar(&opts.IdleTimeout, "idle-timeout", DefaultIdleTimeout, "idle keep-alive connections are closed after this")
	fl.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "time in-flight requests get to finish on shutdown")
	fl.DurationVar(&opts.DrainDelay, "drain-delay", 0, "on SIGTERM, keep serving this long with /readyz failing before closing the port (e.g. 5s behind a load balancer)")
	fl.StringVar(&opts.Healthcheck, "healthcheck", "", "probe this `URL` (e.g. http://127.0.0.1:8080/readyz) and exit 0 on 200 instead of serving")
	return cmd
}

// applyEnv sets every flag not given on the command line from its SPOOFSENSE_* variable, except
// --healthcheck (a variable must not turn the server into a probe) and --help.
func applyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed || fl.Name == "healthcheck" || fl.Name == "help" {
			return
		}
		name := EnvName(fl.Name)
		v, ok := lookup(name)
		if !ok {
			return
		}
		if e := fs.Set(fl.Name, v); e != nil {
			err = cmdutil.UsageError("%s=%q: %v", name, v, e)
		}
	})
	return err
}

// EnvName is the environment variable of a flag: "max-inflight" → "SPOOFSENSE_MAX_INFLIGHT".
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func (o *ServeOptions) validate() error {
	oneOf := func(flag, v string, allowed ...string) error {
		if !slices.Contains(allowed, v) {
			return cmdutil.UsageError("--%s %q: want %s", flag, v, strings.Join(allowed, ", "))
		}
		return nil
	}
	if _, err := scorer.ParseNets(o.Nets); err != nil {
		return cmdutil.UsageError("--%v", err)
	}
	for _, err := range []error{
		oneOf("log-format", o.LogFormat, "text", "json"),
		oneOf("log-level", o.LogLevel, "debug", "info", "warn", "error"),
	} {
		if err != nil {
			return err
		}
	}
	// The scorer's settings, in the scorer's words.
	if _, err := scorer.ParseFaces(o.Faces); err != nil {
		return cmdutil.UsageError("--%v", err)
	}
	if _, err := scorer.ParseCrops(o.Crops); err != nil {
		return cmdutil.UsageError("--%v", err)
	}
	if _, err := scorer.ParseBox(o.Box); err != nil {
		return cmdutil.UsageError("--%v", err)
	}
	if err := scorer.ValidateThreshold("--threshold", o.Threshold); err != nil {
		return cmdutil.UsageError("%v", err)
	}
	switch {
	case o.MaxInflight < 1:
		return cmdutil.UsageError("--max-inflight %d: want at least 1", o.MaxInflight)
	case o.Queue < 0:
		return cmdutil.UsageError("--queue %d: want 0 or more", o.Queue)
	case o.MaxBodyBytes < 1:
		return cmdutil.UsageError("--max-body %d: want at least 1 byte", o.MaxBodyBytes)
	case o.MaxBuffered < 0:
		return cmdutil.UsageError("--max-buffered %d: want 0 (the default) or more", o.MaxBuffered)
	case o.MaxPixels < 0:
		return cmdutil.UsageError("--max-pixels %d: want 0 (the default) or more", o.MaxPixels)
	case o.MaxScorers < 1:
		return cmdutil.UsageError("--max-scorers %d: want at least 1", o.MaxScorers)
	}
	if o.DrainDelay < 0 {
		return cmdutil.UsageError("--drain-delay %s: want 0 or a positive duration", o.DrainDelay)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{
		{"read-timeout", o.ReadTimeout}, {"request-timeout", o.RequestTimeout},
		{"idle-timeout", o.IdleTimeout}, {"shutdown-timeout", o.ShutdownTimeout},
	} {
		if d.v <= 0 {
			return cmdutil.UsageError("--%s %s: want a positive duration", d.flag, d.v)
		}
	}
	return nil
}

// newLogger builds the structured logger the options ask for, writing to w.
func (o *ServeOptions) newLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(o.LogLevel)) // validated
	ho := &slog.HandlerOptions{Level: level}
	if o.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// serveRun listens on opts.Addr and serves until ctx is cancelled (SIGINT/SIGTERM).
func serveRun(ctx context.Context, opts *ServeOptions) error {
	if opts.Healthcheck != "" {
		return healthcheck(ctx, opts.Healthcheck)
	}
	keys := slices.Clone(opts.APIKeys)
	channels := map[string]string{}
	if opts.APIKeysFile != "" {
		fileKeys, err := ReadAPIKeyLines(opts.APIKeysFile)
		if err != nil {
			return cmdutil.UsageError("--api-keys-file: %v", err)
		}
		for _, k := range fileKeys {
			keys = append(keys, k.Key)
			if k.Channel != "" {
				channels[k.Key] = k.Channel
			}
		}
	}
	var prof *profile.Profile
	if opts.Profile != "" {
		var err error
		if prof, err = profile.Read(opts.Profile); err != nil {
			return cmdutil.CannotRun(err)
		}
	}
	log := opts.newLogger(opts.IO.ErrOut)
	nets, _ := scorer.ParseNets(opts.Nets) // validate has checked it
	queue := opts.Queue
	if queue == 0 {
		queue = -1 // the flag's 0 means no queue; Config's zero means the default
	}
	srv, err := New(Config{
		NewScorer: opts.NewScorer,
		Scorer: scorer.Options{
			Threshold: opts.Threshold,
			Faces:     scorer.FacePolicy(opts.Faces),
			Crops:     scorer.CropPolicy(opts.Crops),
			Box:       scorer.BoxMode(opts.Box),
			Nets:      nets,
		},
		APIKeys:          keys,
		KeyChannels:      channels,
		Profile:          prof,
		ProfileFile:      opts.Profile,
		Logger:           log,
		Version:          opts.Version,
		MaxBodyBytes:     opts.MaxBodyBytes,
		MaxInflight:      opts.MaxInflight,
		Queue:            queue,
		MaxScorers:       opts.MaxScorers,
		MaxBufferedBytes: opts.MaxBuffered,
		MaxPixels:        opts.MaxPixels,
		ReadTimeout:      opts.ReadTimeout,
		RequestTimeout:   opts.RequestTimeout,
		IdleTimeout:      opts.IdleTimeout,
		ShutdownTimeout:  opts.ShutdownTimeout,
		DrainDelay:       opts.DrainDelay,
	})
	var perr *ProfileError
	switch {
	case errors.As(err, &perr):
		return cmdutil.CannotRun(err)
	case err != nil:
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return cmdutil.CannotRun(fmt.Errorf("listen on %s: %w", opts.Addr, err))
	}
	memLimit := "GOMEMLIMIT"
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(srv.MemoryLimit())
		memLimit = fmt.Sprintf("%dMiB", srv.MemoryLimit()>>20)
	}
	log.Info("listening", "addr", ln.Addr().String(), "api_keys", len(keys),
		"max_inflight", opts.MaxInflight, "queue", opts.Queue, "max_buffered_mib", srv.cfg.MaxBufferedBytes>>20,
		"memory_limit", memLimit, "version", opts.Version)
	if err := srv.Serve(ctx, ln); err != nil {
		// The models did not load or the self-test failed: the service cannot run.
		return cmdutil.CannotRun(err)
	}
	return nil
}

// healthcheck GETs url and succeeds on 200.
func healthcheck(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return cmdutil.UsageError("--healthcheck %q: %v", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitFail, Err: fmt.Errorf("healthcheck: %w", err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return &cmdutil.ExitError{Code: cmdutil.ExitFail, Err: fmt.Errorf("healthcheck %s: %s", url, resp.Status)}
	}
	return nil
}
