package eval

import (
	"context"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
	"github.com/spoofsense/spoofsense/report/dataset"
	"github.com/spoofsense/spoofsense/report/scorefile"
	"github.com/spoofsense/spoofsense/scorer"
)

// scorePart is one score file of a --scores value: a file or an object.
type scorePart struct {
	name string
	open func(context.Context) (io.ReadCloser, error)
}

// scoreParts expands a --scores value into its score files: a file; a glob of files
// (parts/*.ndjson, in name order); or a URL naming one object, or a prefix whose .ndjson
// objects are the parts (the checkpoints of an unfinished shard, under .partial/, are not).
// A glob or prefix that matches nothing is an error.
func scoreParts(ctx context.Context, opener *objstore.Opener, spec string) ([]scorePart, error) {
	if !objstore.IsURL(spec) {
		if !strings.ContainsAny(spec, "*?[") {
			return []scorePart{filePart(spec)}, nil
		}
		names, err := filepath.Glob(spec)
		if err != nil {
			return nil, cmdutil.UsageError("--scores %q: %v", spec, err)
		}
		if len(names) == 0 {
			return nil, cmdutil.UsageError("--scores %s: no file matches", spec)
		}
		parts := make([]scorePart, len(names))
		for i, n := range names {
			parts[i] = filePart(n)
		}
		return parts, nil
	}
	loc, err := objstore.Parse(spec)
	if err != nil {
		return nil, cmdutil.UsageError("--scores: %v", err)
	}
	b, err := opener.Bucket(ctx, loc)
	if err != nil {
		return nil, cmdutil.CannotRun(fmt.Errorf("--scores: %w", err))
	}
	objectPart := func(key string) scorePart {
		return scorePart{name: loc.Name(key), open: func(ctx context.Context) (io.ReadCloser, error) {
			return objstore.Open(ctx, b, loc, key)
		}}
	}
	prefix, isObject, err := objstore.Resolve(ctx, b, loc)
	switch {
	case err != nil:
		return nil, cmdutil.UsageError("--scores %v", err)
	case isObject:
		return []scorePart{objectPart(loc.Key)}, nil
	}
	var parts []scorePart
	for key, err := range objstore.List(ctx, b, prefix, 0) {
		if err != nil {
			return nil, cmdutil.UsageError("--scores: list %s: %s", loc.Name(prefix), objstore.Describe(err))
		}
		if path.Ext(key) == ".ndjson" && !strings.Contains(key, ".partial/") {
			parts = append(parts, objectPart(key))
		}
	}
	if len(parts) == 0 {
		return nil, cmdutil.UsageError("--scores %s: no .ndjson object there", loc.Name(prefix))
	}
	return parts, nil
}

func filePart(name string) scorePart {
	return scorePart{name: name, open: func(ctx context.Context) (io.ReadCloser, error) {
		f, err := cmdutil.OpenInput(ctx, name) // non-blocking: a FIFO cannot hang it
		if err != nil {
			return nil, err
		}
		return f, nil
	}}
}

// loadScores reads the score files of a --scores value and matches their results to the
// dataset's items: results[i] is item i's, nil when no part has it. An item with results in two
// parts is an error naming both; results for files outside the dataset are counted in unmatched.
// With several parts, the items no part holds are reported (they are then scored).
func (o *EvalOptions) loadScores(ctx context.Context, spec string, ds *dataset.Dataset) ([]*scorer.Result, int, error) {
	parts, err := scoreParts(ctx, o.opener, spec)
	if err != nil {
		return nil, 0, err
	}
	merged := scorefile.NewMerged(ds)
	unmatched := 0
	for _, p := range parts {
		r, err := p.open(ctx)
		if err != nil {
			return nil, 0, cmdutil.UsageError("score file: %v", err)
		}
		lines, err := scorefile.Read(r, p.name)
		r.Close()
		if err != nil {
			return nil, 0, &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: err}
		}
		got, n, err := scorefile.Match(ds, lines, p.name)
		if err != nil {
			return nil, 0, &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: err}
		}
		unmatched += n
		if err := merged.Add(p.name, got); err != nil {
			return nil, 0, cmdutil.UsageError("%v", err)
		}
	}
	results, missing := merged.Results()
	if len(parts) > 1 {
		if len(missing) > 0 {
			shown := missing[:min(len(missing), 5)]
			more := ""
			if len(missing) > len(shown) {
				more = fmt.Sprintf(", and %d more", len(missing)-len(shown))
			}
			o.note("%d of %d images are in none of the %d score files of %s: %s%s", len(missing), len(ds.Items), len(parts), spec, strings.Join(shown, ", "), more)
		}
	}
	return results, unmatched, nil
}
