package serve

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// The commercial contract (PIPELINE §4), answer bodies compared byte for byte.
func TestAntispoofingContract(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantBody    string // exact, when set
		wantCode    string // error code of a JSON error, when set
	}{
		{"live", "application/json", b64JSON(imgLive), 200,
			`{"success":true,"message":"Process finished successfully","model_output":{"pred_idx":"real","prob_real":0.97}}` + "\n", ""},
		{"spoof", "application/json", b64JSON(imgSpoof), 200,
			`{"success":true,"message":"Process finished successfully","model_output":{"pred_idx":"spoof","prob_real":0.12}}` + "\n", ""},
		{"exactly the threshold is spoof (commercial >)", "application/json", b64JSON(imgEdge), 200,
			`{"success":true,"message":"Process finished successfully","model_output":{"pred_idx":"spoof","prob_real":0.55}}` + "\n", ""},
		{"no face", "application/json", b64JSON(imgNoFace), 200, `{"success":false,"message":"face not detected"}` + "\n", ""},
		{"invalid base64", "application/json", `{"data":"not base64 at all!"}`, 200, `{"success":false,"message":"Invalid base64 string"}` + "\n", ""},
		{"base64 of something that is no image", "application/json", b64JSON(imgBroken), 200, `{"success":false,"message":"Invalid image"}` + "\n", ""},
		{"wrapped base64 with charset and no padding", "application/json; charset=utf-8",
			`{"data":"` + strings.TrimRight(wrap76(base64Std(imgLive+"xx")), "=") + `"}`, 200,
			`{"success":true,"message":"Process finished successfully","model_output":{"pred_idx":"real","prob_real":0.97}}` + "\n", ""},
		{"no content type is taken as JSON", "", b64JSON(imgLive), 200, "", ""},
		{"malformed JSON", "application/json", `{"data": "abc`, 400, "", codeMalformedJSON},
		{"missing data", "application/json", `{"image":"abc"}`, 400, "", codeMissingData},
		{"empty data", "application/json", `{"data":""}`, 400, "", codeMissingData},
		{"wrong content type", "image/jpeg", b64JSON(imgLive), 415, "", codeUnsupportedMediaType},
		{"text/plain is taken as JSON (a browser fetch)", "text/plain;charset=UTF-8", b64JSON(imgLive), 200, "", ""},
		{"a UTF-8 byte order mark before the JSON", "application/json", "\xEF\xBB\xBF" + b64JSON(imgLive), 200, "", ""},
		{"data key in another case", "application/json", `{"Data":"` + base64Std(imgLive) + `"}`, 200, "", ""},
		{"escaped slashes and line breaks in the base64", "application/json",
			`{"data":"` + strings.NewReplacer("\n", `\r\n`, "/", `\/`).Replace(wrap76(base64Std(imgLive+strings.Repeat("\xff", 120)))) + `"}`, 200,
			`{"success":true,"message":"Process finished successfully","model_output":{"pred_idx":"real","prob_real":0.97}}` + "\n", ""},
		{"data URL", "application/json", `{"data":"data:image/jpeg;base64,` + base64Std(imgLive) + `"}`, 200, "", ""},
		{"other members are skipped", "application/json", `{"meta":{"a":[1,-2.5e3,true,null,"x\"y"]},"data":"` + base64Std(imgLive) + `","n":0}`, 200, "", ""},
		{"duplicate data keys", "application/json", `{"data":"` + base64Std(imgLive) + `","DATA":"` + base64Std(imgSpoof) + `"}`, 400, "", codeMalformedJSON},
		{"duplicate data keys, the same image", "application/json", `{"data":"` + base64Std(imgLive) + `","data":"` + base64Std(imgLive) + `"}`, 400, "", codeMalformedJSON},
		{"data is a number", "application/json", `{"data":5}`, 400, "", codeMalformedJSON},
		{"data is null", "application/json", `{"data":null}`, 400, "", codeMissingData},
		{"trailing garbage", "application/json", b64JSON(imgLive) + "x", 400, "", codeMalformedJSON},
		{"invalid base64 in invalid JSON is malformed JSON", "application/json", `{"data":"!!!"`, 400, "", codeMalformedJSON},
		{"padding in the middle", "application/json", `{"data":"` + base64Std("LIVE") + base64Std("x") + `"}`, 200, `{"success":false,"message":"Invalid base64 string"}` + "\n", ""},
		{"form content type (curl -d)", "application/x-www-form-urlencoded", b64JSON(imgLive), 415, "", codeUnsupportedMediaType},
		{"scorer panic", "application/json", b64JSON(imgPanic), 500, "", codeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ts.send(t, http.MethodPost, "/antispoofing", tt.contentType, strings.NewReader(tt.body), nil)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", a.status, tt.wantStatus, a.body)
			}
			if got := a.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			if tt.wantBody != "" && string(a.body) != tt.wantBody {
				t.Errorf("body\n%s\nwant\n%s", a.body, tt.wantBody)
			}
			if tt.wantCode != "" {
				if got := a.errorCode(t); got != tt.wantCode {
					t.Errorf("error code %q, want %q", got, tt.wantCode)
				}
			}
			if strings.Contains(string(a.body), "goroutine") || strings.Contains(string(a.body), ".go:") {
				t.Errorf("answer leaks a stack trace: %s", a.body)
			}
		})
	}
}

// wrap76 breaks s into lines of 76 characters, as the base64 tool writes them.
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// bodyOfSize is an /antispoofing JSON body of exactly n bytes holding a live image.
func bodyOfSize(t testing.TB, n int) string {
	t.Helper()
	img := make([]byte, (n-100)*3/4)
	copy(img, imgLive)
	json := `{"data":"` + base64.StdEncoding.EncodeToString(img) + `"}`
	if len(json) > n {
		t.Fatalf("body %d > %d", len(json), n)
	}
	return json + strings.Repeat(" ", n-len(json)) // JSON allows trailing white space
}

func TestAntispoofingBodyLimit(t *testing.T) {
	ts := newTestServer(t, nil)
	const limit = 10485760
	tests := []struct {
		name       string
		size       int
		chunked    bool // no Content-Length: the limit is found while reading
		wantStatus int
	}{
		{"exactly 10 MiB", limit, false, 200},
		{"10 MiB + 1", limit + 1, false, 413},
		{"10 MiB + 1 chunked", limit + 1, true, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body interface {
				Read([]byte) (int, error)
			} = strings.NewReader(bodyOfSize(t, tt.size))
			if tt.chunked {
				body = struct{ *strings.Reader }{body.(*strings.Reader)} // hides the length
			}
			a := ts.send(t, http.MethodPost, "/antispoofing", "application/json", body, nil)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %.200s", a.status, tt.wantStatus, a.body)
			}
			if tt.wantStatus == 413 {
				if got := a.errorCode(t); got != codeBodyTooLarge {
					t.Errorf("error code %q, want %q", got, codeBodyTooLarge)
				}
			} else if !strings.Contains(string(a.body), `"pred_idx":"real"`) {
				t.Errorf("body %s, want a real prediction", a.body)
			}
		})
	}
}

func TestAPIKeys(t *testing.T) {
	ts := newTestServer(t, func(c *Config, _ *fakeControl) { c.APIKeys = []string{"key-one", "key-two"} })
	tests := []struct {
		name, method, path, key string
		contentType, body       string
		wantStatus              int
	}{
		{"first key", "POST", "/antispoofing", "key-one", "application/json", b64JSON(imgLive), 200},
		{"second key", "POST", "/v1/check", "key-two", "image/jpeg", imgLive, 200},
		{"missing key", "POST", "/antispoofing", "", "application/json", b64JSON(imgLive), 401},
		{"wrong key", "POST", "/antispoofing", "key-three", "application/json", b64JSON(imgLive), 401},
		{"prefix of a key", "POST", "/v1/check", "key-", "image/jpeg", imgLive, 401},
		{"key plus suffix", "POST", "/v1/check", "key-one2", "image/jpeg", imgLive, 401},
		{"healthz open", "GET", "/healthz", "", "", "", 200},
		{"readyz open", "GET", "/readyz", "", "", "", 200},
		{"metrics open", "GET", "/metrics", "", "", "", 200},
		{"version open", "GET", "/version", "", "", "", 200},
		{"openapi open", "GET", "/openapi.yaml", "", "", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.key != "" {
				hdr["x-api-key"] = tt.key
			}
			a := ts.send(t, tt.method, tt.path, tt.contentType, strings.NewReader(tt.body), hdr)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", a.status, tt.wantStatus, a.body)
			}
			if a.status == 401 && a.errorCode(t) != codeUnauthorized {
				t.Errorf("error code %q, want %q", a.errorCode(t), codeUnauthorized)
			}
		})
	}
}

// Load balancers that probe with HEAD get the GET routes' status without a body.
func TestHeadProbes(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, path := range []string{"/healthz", "/readyz", "/version"} {
		a := ts.send(t, http.MethodHead, path, "", nil, nil)
		if a.status != 200 || len(a.body) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes, want 200 and no body", path, a.status, len(a.body))
		}
	}
}

func TestRouting(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		method, path string
		wantStatus   int
		wantCode     string
		wantAllow    string
	}{
		{"GET", "/antispoofing", 405, codeMethodNotAllowed, "POST"},
		{"PUT", "/v1/check", 405, codeMethodNotAllowed, "POST"},
		{"POST", "/healthz", 405, codeMethodNotAllowed, "GET, HEAD"},
		{"DELETE", "/metrics", 405, codeMethodNotAllowed, "GET, HEAD"},
		{"HEAD", "/antispoofing", 405, "", "POST"},
		{"GET", "/nope", 404, codeNotFound, ""},
		{"GET", "/v1/check/extra", 404, codeNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			a := ts.send(t, tt.method, tt.path, "", nil, nil)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d", a.status, tt.wantStatus)
			}
			if tt.method != "HEAD" { // a HEAD answer has no body
				if got := a.errorCode(t); got != tt.wantCode {
					t.Errorf("error code %q, want %q", got, tt.wantCode)
				}
			}
			if got := a.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow %q, want %q", got, tt.wantAllow)
			}
		})
	}
}
