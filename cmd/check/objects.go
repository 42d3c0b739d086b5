package check

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"gocloud.dev/blob"

	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
)

// object is an input stored in a bucket: where to read it.
type object struct {
	bucket *blob.Bucket
	loc    objstore.Location
	key    string
}

// open opens the object for reading.
func (o *object) open(ctx context.Context) (io.ReadCloser, error) {
	return objstore.Open(ctx, o.bucket, o.loc, o.key)
}

// expandURL yields the object a URL names, or the images below it when it names a prefix: a
// URL ending in "/" or naming the bucket is a prefix; any other is a key, and, when no object
// has that key, the prefix key + "/" (as a directory argument is walked). Keys below a prefix are
// picked as a directory walk picks files — by extension (reading each object to sniff it would
// double the requests), with --include, --exclude and --hidden — in the bucket's listing order.
//
// A bucket that cannot be opened (no credentials) stops the run: no object of it could be read.
// A missing bucket, key or prefix is an error row, as a missing file is.
func (w *walker) expandURL(ctx context.Context, arg string, yield func(input) bool) bool {
	loc, err := objstore.Parse(arg)
	if err != nil {
		return yield(input{name: arg, err: err})
	}
	b, err := w.opener.Bucket(ctx, loc)
	if err != nil {
		return yield(input{name: arg, fatal: err})
	}
	prefix, isObject, err := objstore.Resolve(ctx, b, loc)
	switch {
	case err != nil:
		return yield(input{name: arg, err: err})
	case isObject:
		return yield(input{name: loc.String(), obj: &object{b, loc, loc.Key}})
	}
	found := false
	for key, err := range objstore.List(ctx, b, prefix, w.pageSize) {
		if err != nil {
			if objstore.IsNotFound(err) {
				err = fmt.Errorf("list %s: bucket not found", loc.Name(prefix))
			} else {
				err = fmt.Errorf("list %s: %s", loc.Name(prefix), objstore.Describe(err))
			}
			return yield(input{name: loc.String(), err: err})
		}
		found = true
		if ctx.Err() != nil {
			return false
		}
		if !w.takesKey(strings.TrimPrefix(key, prefix)) {
			continue
		}
		if !yield(input{name: loc.Name(key), obj: &object{b, loc, key}}) {
			return false
		}
	}
	if !found && !loc.IsPrefix() {
		return yield(input{name: loc.String(), err: fmt.Errorf("%s: no such object or prefix", loc)})
	}
	return true
}

// takesKey reports whether a key found below a prefix (rel is the part after it) is an image the
// walk takes: a directory walk's rules, with the key's "/"-separated parts as directories.
func (w *walker) takesKey(rel string) bool {
	parts := strings.Split(rel, "/")
	base := parts[len(parts)-1]
	for i, p := range parts {
		if !w.hidden && strings.HasPrefix(p, ".") {
			return false
		}
		if i < len(parts)-1 && w.excluded(path.Join(parts[:i+1]...), p) {
			return false
		}
	}
	return hasImageExt(base) && w.selected(rel, base) && !w.isAnnotation(base)
}
