package objstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore/objstoretest"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in, name, key, err string
		prefix             bool
	}{
		{in: "s3://bkt/photos/a.jpg?region=eu-west-1", name: "s3://bkt/photos/a.jpg", key: "photos/a.jpg"},
		{in: "s3://bkt/photos/", name: "s3://bkt/photos/", key: "photos/", prefix: true},
		{in: "gs://bkt", name: "gs://bkt/", key: "", prefix: true},
		{in: "azblob://container/x/y.png", name: "azblob://container/x/y.png", key: "x/y.png"},
		{in: "file:///data/dev/", name: "file:///data/dev/", key: "data/dev/", prefix: true},
		{in: "file://host/data", err: "absolute path"},
		{in: "s3:///key", err: "names no bucket"},
		{in: "ftp://x/y", err: "scheme \"ftp\" is not one of s3, gs, azblob, file"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			loc, err := objstore.Parse(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if loc.String() != tt.name || loc.Key != tt.key || loc.IsPrefix() != tt.prefix {
				t.Errorf("got %s key %q prefix %v, want %s %q %v", loc, loc.Key, loc.IsPrefix(), tt.name, tt.key, tt.prefix)
			}
		})
	}
}

// A listing of more keys than one page asks page by page and yields every key once, in order.
func TestListPagesThroughS3(t *testing.T) {
	s := objstoretest.Start(t)
	s.Bucket(t, "bkt")
	var want []string
	for i := range 23 {
		key := fmt.Sprintf("p/%03d.jpg", i)
		s.Put(t, "bkt", key, []byte("x"))
		want = append(want, key)
	}
	s.Put(t, "bkt", "other/1.jpg", []byte("x"))
	ctx := context.Background()
	var o objstore.Opener
	defer o.Close()
	loc, err := objstore.Parse(s.BucketURL("bkt", "p/"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := o.Bucket(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for key, err := range objstore.List(ctx, b, loc.Key, 5) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, key)
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v\nwant %v", got, want)
	}
	if n := s.Lists(); n != 5 {
		t.Errorf("%d listing requests for 23 keys at 5 a page, want 5", n)
	}

	r, err := objstore.Open(ctx, b, loc, "p/000.jpg")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(data) != "x" {
		t.Errorf("read %q, %v", data, err)
	}
	if _, err := objstore.Open(ctx, b, loc, "p/missing.jpg"); err == nil || err.Error() != "open s3://bkt/p/missing.jpg: not found" {
		t.Errorf("missing key: %v", err)
	}
	missing, _ := objstore.Parse(s.BucketURL("no-such-bucket", ""))
	mb, err := o.Bucket(ctx, missing)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range objstore.List(ctx, mb, "", 0) {
		if !objstore.IsNotFound(err) {
			t.Errorf("listing a missing bucket: %v, want a not-found error", err)
		}
	}
}

func TestNoCredentials(t *testing.T) {
	s := objstoretest.Start(t)
	objstoretest.SetCredentials(t, "", "")
	loc, _ := objstore.Parse(s.BucketURL("bkt", ""))
	var o objstore.Opener
	defer o.Close()
	_, err := o.Bucket(context.Background(), loc)
	if !errors.Is(err, objstore.ErrNoCredentials) || !strings.Contains(err.Error(), "open bucket s3://bkt/: no credentials") {
		t.Errorf("err = %v, want ErrNoCredentials naming the bucket", err)
	}
	// anonymous=true asks for no credentials.
	anon, _ := objstore.Parse(s.BucketURL("bkt", "") + "&anonymous=true")
	if _, err := o.Bucket(context.Background(), anon); err != nil {
		t.Errorf("anonymous: %v", err)
	}
}
