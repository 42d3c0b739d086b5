package serve

import (
	"bufio"
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// operation is one documented or served method on a path.
type operation struct{ method, path string }

// documentedStatuses reads the paths section of the OpenAPI document: for each operation, its
// response status codes. The document is ours and kept in one indentation style (paths at 2
// spaces, methods at 4, responses at 6, status codes at 8), which this reader checks as it goes.
func documentedStatuses(t *testing.T, doc []byte) map[operation][]string {
	t.Helper()
	ops := map[operation][]string{}
	sc := bufio.NewScanner(bytes.NewReader(doc))
	inPaths, inResponses := false, false
	var path, method string
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		trimmed := strings.TrimLeft(text, " ")
		indent := len(text) - len(trimmed)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if indent == 0 {
			inPaths = trimmed == "paths:"
			continue
		}
		if !inPaths {
			continue
		}
		key, _, _ := strings.Cut(trimmed, ":")
		switch indent {
		case 2:
			if !strings.HasPrefix(key, "/") {
				t.Fatalf("openapi.yaml:%d: %q under paths is not a path", line, key)
			}
			path, method, inResponses = key, "", false
		case 4:
			method, inResponses = strings.ToUpper(key), false
			if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}, method) {
				t.Fatalf("openapi.yaml:%d: %q under %s is not a method", line, key, path)
			}
			ops[operation{method, path}] = nil
		case 6:
			inResponses = key == "responses"
		case 8:
			if inResponses {
				code := strings.Trim(key, `'"`)
				if len(code) != 3 {
					t.Fatalf("openapi.yaml:%d: response key %q is not a status code", line, key)
				}
				op := operation{method, path}
				ops[op] = append(ops[op], code)
			}
		}
	}
	return ops
}

// The OpenAPI document is true: every served route is documented, every documented operation is
// served, and every status documented for an operation is one the server answers in a
// situation this test produces.
func TestOpenAPIDocumentMatchesServer(t *testing.T) {
	ready := newTestServer(t, nil)
	keyed := newTestServer(t, func(c *Config, _ *fakeControl) { c.APIKeys = []string{"k"} })
	cold := startTestServer(t, func(_ *Config, f *fakeControl) { f.loadGate = make(chan struct{}) })
	go func() { _ = cold.Warmup(t.Context()) }() // stays loading until the test ends

	served := map[operation]bool{}
	for _, rt := range ready.routes {
		served[operation{rt.method, rt.path}] = true
	}

	post := func(ts *testServer, path, ct, body string) func(*testing.T) int {
		return func(t *testing.T) int {
			return ts.send(t, http.MethodPost, path, ct, strings.NewReader(body), nil).status
		}
	}
	get := func(ts *testServer, path string) func(*testing.T) int {
		return func(t *testing.T) int { return ts.send(t, http.MethodGet, path, "", nil, nil).status }
	}
	// full: a server whose only worker and queue slot are taken.
	full := func(path, ct, body string) func(*testing.T) int {
		return func(t *testing.T) int {
			ts := newTestServer(t, func(c *Config, _ *fakeControl) { c.MaxInflight, c.Queue = 1, -1 })
			done := make(chan struct{})
			go func() {
				defer close(done)
				ts.send(t, http.MethodPost, "/v1/check", "image/jpeg", strings.NewReader(imgSlow), nil)
			}()
			receive(t, "the slot to be taken", ts.fake.started)
			status := ts.send(t, http.MethodPost, path, ct, strings.NewReader(body), nil).status
			close(ts.fake.release)
			<-done
			return status
		}
	}
	tooBig := strings.Repeat(" ", DefaultMaxBodyBytes+1)
	// situations maps "METHOD path status" to a request producing that status.
	situations := map[string]func(*testing.T) int{
		"POST /antispoofing 200": post(ready, "/antispoofing", "application/json", b64JSON(imgLive)),
		"POST /antispoofing 400": post(ready, "/antispoofing", "application/json", "{"),
		"POST /antispoofing 401": post(keyed, "/antispoofing", "application/json", b64JSON(imgLive)),
		"POST /antispoofing 413": post(ready, "/antispoofing", "application/json", tooBig),
		"POST /antispoofing 415": post(ready, "/antispoofing", "application/x-www-form-urlencoded", b64JSON(imgLive)),
		"POST /antispoofing 500": post(ready, "/antispoofing", "application/json", b64JSON(imgPanic)),
		"POST /antispoofing 503": full("/antispoofing", "application/json", b64JSON(imgLive)),
		"POST /v1/check 200":     post(ready, "/v1/check", "image/jpeg", imgLive),
		"POST /v1/check 400":     post(ready, "/v1/check?threshold=2", "image/jpeg", imgLive),
		"POST /v1/check 401":     post(keyed, "/v1/check", "image/jpeg", imgLive),
		"POST /v1/check 413":     post(ready, "/v1/check", "image/jpeg", tooBig),
		"POST /v1/check 415":     post(ready, "/v1/check", "text/plain", imgLive),
		"POST /v1/check 422":     post(ready, "/v1/check", "image/jpeg", imgBroken),
		"POST /v1/check 500":     post(ready, "/v1/check", "image/jpeg", imgPanic),
		"POST /v1/check 503":     post(cold, "/v1/check", "image/jpeg", imgLive),
		"GET /healthz 200":       get(ready, "/healthz"),
		"GET /readyz 200":        get(ready, "/readyz"),
		"GET /readyz 503":        get(cold, "/readyz"),
		"GET /metrics 200":       get(ready, "/metrics"),
		"GET /version 200":       get(ready, "/version"),
		"GET /openapi.yaml 200":  get(ready, "/openapi.yaml"),
	}

	// The document served is the embedded one.
	if a := ready.send(t, http.MethodGet, "/openapi.yaml", "", nil, nil); !bytes.Equal(a.body, openAPIDoc) ||
		!bytes.HasPrefix(a.body, []byte("openapi: 3.")) || a.header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /openapi.yaml: %d %s, %d bytes, want the embedded OpenAPI 3 document", a.status, a.header.Get("Content-Type"), len(a.body))
	}
	documented := documentedStatuses(t, openAPIDoc)
	if len(documented) == 0 {
		t.Fatal("no operations found in openapi.yaml")
	}
	for op := range served {
		if _, ok := documented[op]; !ok {
			t.Errorf("%s %s is served but not documented", op.method, op.path)
		}
	}
	covered := map[string]bool{}
	for op, codes := range documented {
		if !served[op] {
			t.Errorf("%s %s is documented but not served", op.method, op.path)
		}
		if len(codes) == 0 {
			t.Errorf("%s %s documents no response", op.method, op.path)
		}
		for _, code := range codes {
			key := op.method + " " + op.path + " " + code
			covered[key] = true
			produce, ok := situations[key]
			if !ok {
				t.Errorf("%s is documented but this test has no situation producing it", key)
				continue
			}
			t.Run(key, func(t *testing.T) {
				if got := produce(t); strconv.Itoa(got) != code {
					t.Errorf("status %d, want %s", got, code)
				}
			})
		}
	}
	for key := range situations {
		if !covered[key] {
			t.Errorf("%s is answered but not documented", key)
		}
	}
}
