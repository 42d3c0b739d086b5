// Package objstore is the object-storage plumbing of the bulk commands: it parses s3://, gs://,
// azblob:// and file:// URLs into a bucket and a key or prefix, opens each bucket once through
// gocloud.dev/blob with the provider's usual credential chain (no keys on the command line),
// lists a prefix lazily one page at a time, and reads and writes objects. Nothing here holds
// more than one page of a listing, so memory does not grow with the bucket's size.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gocloud.dev/aws"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob:// URLs
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob" // gs:// URLs
	_ "gocloud.dev/blob/s3blob"  // s3:// URLs
	"gocloud.dev/gcerrors"
)

// schemes are the URL schemes Parse accepts, in the order messages list them.
func schemes() []string { return []string{"s3", "gs", "azblob", "file"} }

// DefaultPageSize is how many keys one listing request asks for.
const DefaultPageSize = 1000

// ErrNoCredentials marks a bucket that could not be opened because the provider's credential
// chain found no credentials: the run cannot be done (exit 4), whatever the inputs.
var ErrNoCredentials = errors.New("no credentials")

// IsURL reports whether s names object storage: it starts with s3://, gs://, azblob:// or
// file://.
func IsURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	return slices.Contains(schemes(), scheme)
}

// Location is one parsed URL: the bucket and the key (an object) or prefix (ending in "/", or
// empty for the whole bucket) inside it.
type Location struct {
	// Scheme is "s3", "gs", "azblob" or "file".
	Scheme string
	// bucketURL is what gocloud opens: the scheme, bucket and query (endpoint, region…);
	// for file:// the bucket is the root directory "/".
	bucketURL string
	// Bucket names the bucket in messages ("" for file://).
	Bucket string
	// Key is the object key or prefix, without a leading "/".
	Key string
}

// Parse splits a URL into its bucket and key. A file:// URL must hold an absolute path
// (file:///data/photos/); its bucket is the file system's root.
func Parse(s string) (Location, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Location{}, fmt.Errorf("parse URL %q: %w", s, err)
	}
	if !IsURL(s) {
		return Location{}, fmt.Errorf("URL %q: scheme %q is not one of %s", s, u.Scheme, strings.Join(schemes(), ", "))
	}
	loc := Location{Scheme: u.Scheme, Key: strings.TrimPrefix(u.Path, "/")}
	if u.Scheme == "file" {
		if u.Host != "" && u.Host != "localhost" {
			return Location{}, fmt.Errorf("URL %q: a file URL holds an absolute path, file:///dir/key (not host %q)", s, u.Host)
		}
		if !strings.HasPrefix(u.Path, "/") {
			return Location{}, fmt.Errorf("URL %q: a file URL holds an absolute path, file:///dir/key", s)
		}
		loc.bucketURL = "file:///"
		return loc, nil
	}
	if u.Host == "" {
		return Location{}, fmt.Errorf("URL %q names no bucket (want %s://BUCKET/KEY)", s, u.Scheme)
	}
	loc.Bucket = u.Host
	b := url.URL{Scheme: u.Scheme, Host: u.Host, RawQuery: u.RawQuery}
	loc.bucketURL = b.String()
	return loc, nil
}

// FileLocation is the Location of a local path (made absolute), so that results written to a
// plain file go through the same writer as those written to a bucket.
func FileLocation(path string) (Location, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Location{}, fmt.Errorf("output %s: %w", path, err)
	}
	return Location{Scheme: "file", bucketURL: "file:///", Key: strings.TrimPrefix(filepath.ToSlash(abs), "/")}, nil
}

// String is the URL of l without its query: the name rows and messages use.
func (l Location) String() string {
	return l.Name(l.Key)
}

// Name is the URL of key in l's bucket, without the query (endpoint and region are how to reach
// an object, not what it is): "s3://bucket/key", "file:///dir/key".
func (l Location) Name(key string) string {
	if l.Scheme == "file" {
		return "file:///" + key
	}
	return l.Scheme + "://" + l.Bucket + "/" + key
}

// URL is the URL of key in l's bucket with l's query, so that Parse of it reaches the same
// bucket the same way (endpoint, region…).
func (l Location) URL(key string) string {
	name := l.Name(key)
	if _, q, ok := strings.Cut(l.bucketURL, "?"); ok {
		name += "?" + q
	}
	return name
}

// IsPrefix reports whether l names a prefix (the bucket, or a key ending in "/").
func (l Location) IsPrefix() bool { return l.Key == "" || strings.HasSuffix(l.Key, "/") }

// LocalPath returns the file system path of key in a file:// location.
func (l Location) LocalPath(key string) (string, bool) {
	if l.Scheme != "file" {
		return "", false
	}
	return filepath.FromSlash("/" + key), true
}

// Opener opens each bucket once and closes them all at the end of a run. It is safe for
// concurrent use.
type Opener struct {
	mu      sync.Mutex
	buckets map[string]*blob.Bucket
}

// Bucket returns the open bucket of l, opening it on first use. For s3:// it first asks the
// AWS credential chain (environment, shared config and credentials files, web identity, the
// instance or task role) for credentials, so that missing ones are one error before any
// listing (wrapping ErrNoCredentials) instead of one per object; anonymous=true in the query
// skips that.
func (o *Opener) Bucket(ctx context.Context, l Location) (*blob.Bucket, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if b := o.buckets[l.bucketURL]; b != nil {
		return b, nil
	}
	var (
		b   *blob.Bucket
		err error
	)
	switch l.Scheme {
	case "file":
		// No sidecar .attrs files beside each object, and the temporary file of a write
		// beside its object (a rename within one file system): a partial write never has
		// the object's name.
		b, err = fileblob.OpenBucket("/", &fileblob.Options{Metadata: fileblob.MetadataDontWrite, NoTempDir: true})
	case "s3":
		if err = checkAWSCredentials(ctx, l); err == nil {
			b, err = blob.OpenBucket(ctx, l.bucketURL)
		}
	default:
		b, err = blob.OpenBucket(ctx, l.bucketURL)
	}
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", l.Name(""), err)
	}
	if o.buckets == nil {
		o.buckets = map[string]*blob.Bucket{}
	}
	o.buckets[l.bucketURL] = b
	return b, nil
}

// checkAWSCredentials loads the AWS configuration the s3 driver will load for l and retrieves
// its credentials once.
func checkAWSCredentials(ctx context.Context, l Location) error {
	u, err := url.Parse(l.bucketURL)
	if err != nil {
		return err
	}
	q := u.Query()
	// The s3blob parameters that are not AWS configuration.
	for _, p := range []string{"ssetype", "kmskeyid", "accelerate", "use_path_style", "s3ForcePathStyle", "disable_https", "awssdk"} {
		q.Del(p)
	}
	cfg, err := aws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return err
	}
	if anon, _ := strconv.ParseBool(q.Get("anonymous")); anon {
		return nil
	}
	if cfg.Credentials == nil {
		return fmt.Errorf("%w: the AWS credential chain is empty", ErrNoCredentials)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("%w (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web identity or an instance role; anonymous=true for a public bucket): %w", ErrNoCredentials, err)
	}
	return nil
}

// Close closes every bucket opened.
func (o *Opener) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var errs []error
	for _, b := range o.buckets {
		errs = append(errs, b.Close())
	}
	o.buckets = nil
	return errors.Join(errs...)
}

// List yields the keys below prefix in the bucket's order (lexicographic for S3, GCS and Azure),
// asking for pageSize keys at a time (DefaultPageSize when ≤ 0), only when the consumer has taken
// the previous page. A failed request is yielded as an error and ends the listing.
func List(ctx context.Context, b *blob.Bucket, prefix string, pageSize int) iter.Seq2[string, error] {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	return func(yield func(string, error) bool) {
		token := blob.FirstPageToken
		for {
			objs, next, err := b.ListPage(ctx, token, pageSize, &blob.ListOptions{Prefix: prefix})
			if err != nil {
				yield("", err)
				return
			}
			for _, o := range objs {
				if o.IsDir {
					continue
				}
				if !yield(o.Key, nil) {
					return
				}
			}
			if len(next) == 0 {
				return
			}
			token = next
		}
	}
}

// Resolve says what l names in b: the object l.Key when l is not a prefix and an object has
// that key (object true), else the prefix to list — l.Key itself when it is a prefix, l.Key + "/"
// otherwise, as a path argument that is not a file is walked as a directory.
func Resolve(ctx context.Context, b *blob.Bucket, l Location) (prefix string, object bool, err error) {
	if l.IsPrefix() {
		return l.Key, false, nil
	}
	ok, err := b.Exists(ctx, l.Key)
	if err != nil {
		return "", false, fmt.Errorf("%s: %s", l, Describe(err))
	}
	if ok {
		return l.Key, true, nil
	}
	return l.Key + "/", false, nil
}

// Open opens key for reading, with a message naming the object's URL.
func Open(ctx context.Context, b *blob.Bucket, l Location, key string) (io.ReadCloser, error) {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, fmt.Errorf("open %s: %s", l.Name(key), Describe(err))
	}
	return r, nil
}

// Describe is a short reason for a storage error: "not found", "permission denied", or the
// driver's message.
func Describe(err error) string {
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return "not found"
	case gcerrors.PermissionDenied:
		return "permission denied: " + err.Error()
	}
	return err.Error()
}

// IsNotFound reports whether err says an object or bucket does not exist.
func IsNotFound(err error) bool { return gcerrors.Code(err) == gcerrors.NotFound }
