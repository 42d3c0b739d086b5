// Package objstoretest serves a real S3-compatible server (gofakes3, in memory) on loopback for
// tests of the object-storage paths: the real gocloud s3blob client talks HTTP to it, so
// listing, paging, reads and errors go through the same code as against AWS. A proxy in front
// of it counts listing requests and can cut an object's body mid-read.
package objstoretest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Server is one fake S3 endpoint.
type Server struct {
	URL     string
	backend *s3mem.Backend
	// lists counts ListObjectsV2 requests.
	lists atomic.Int64
	// CutMarker: a GET of a key containing it gets its headers and half its body, then the
	// connection is dropped.
	CutMarker string
}

// Start serves a fake S3 until the test ends and points the AWS SDK's credential chain at
// static test keys (t.Setenv, so tests using it cannot run in parallel). Nothing is read from
// the user's ~/.aws or an instance role.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{backend: s3mem.New(), CutMarker: "cut-mid-read"}
	faker := gofakes3.New(s.backend, gofakes3.WithLogger(gofakes3.DiscardLog()), gofakes3.WithUnimplementedPageError())
	h := faker.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" { // ListObjectsV2
			s.lists.Add(1)
		}
		if r.Method == http.MethodGet && s.CutMarker != "" && strings.Contains(r.URL.Path, s.CutMarker) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			body := rec.Body.Bytes()
			w.WriteHeader(rec.Code)
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // drops the connection mid-body
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	SetCredentials(t, "test-key", "test-secret")
	return s
}

// SetCredentials sets the AWS SDK's environment to exactly these static keys ("" unsets them,
// so the chain finds nothing), with no shared config files and no instance metadata service.
func SetCredentials(t testing.TB, key, secret string) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
}

// Lists is how many listing requests the server answered.
func (s *Server) Lists() int64 { return s.lists.Load() }

// Bucket creates a bucket.
func (s *Server) Bucket(t testing.TB, name string) {
	t.Helper()
	if err := s.backend.CreateBucket(name); err != nil {
		t.Fatal(err)
	}
}

// Put stores an object.
func (s *Server) Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	if _, err := s.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
}

// Get reads an object back.
func (s *Server) Get(t testing.TB, bucket, key string) ([]byte, bool) {
	t.Helper()
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, false
	}
	defer obj.Contents.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(obj.Contents); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), true
}

// Keys lists a bucket's keys below prefix.
func (s *Server) Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	list, err := s.backend.ListBucket(bucket, &gofakes3.Prefix{Prefix: prefix, HasPrefix: true}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	return keys
}

// BucketURL is the s3:// URL of key in bucket on this server (path-style, with its endpoint).
// gofakes3 sends no response checksums, so the SDK is told to validate them only when required
// (else it warns on stderr for each object).
func (s *Server) BucketURL(bucket, key string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&use_path_style=true&region=us-east-1&response_checksum_validation=when_required", bucket, key, s.URL)
}
