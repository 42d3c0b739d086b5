// Package bulkout writes a bulk run's results to a file or an object (--out) so that a partial
// output never looks complete and an interrupted run can be resumed.
//
// Rows are kept, in input order, in numbered checkpoint objects beside the output, under
// OUT.partial/ (000001.ndjson, 000002.ndjson, …): each is written whole, so it is either there
// with all its rows or not there at all, and one is committed every Options.Rows rows or
// Options.Every, and when the run is interrupted. Only when every input is scored are the
// checkpoints composed, in order, into OUT in the run's format and deleted: OUT is written by one
// object write (a temporary file and a rename for file://), so it appears complete or not at all.
//
// A run with Resume reads the checkpoints an earlier run left and reports the inputs they hold as
// done (Done), so that only the others are scored; because each run emits rows in input order,
// the composed output is then the one an uninterrupted run writes, row for row. Only the names of
// the done inputs are kept in memory, not their rows.
package bulkout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
	"github.com/spoofsense/spoofsense/report"
	"github.com/spoofsense/spoofsense/scorer"
)

// Options configure an Output.
type Options struct {
	// Format is the format of the composed output; checkpoints are always NDJSON.
	Format report.Format
	// Rows and Every bound how many rows and how long a checkpoint holds before it is
	// committed (defaults 1000 rows and 30s).
	Rows  int
	Every time.Duration
	// Resume keeps the checkpoints an earlier run left (else they are deleted at Open).
	Resume bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// maxLine bounds one result line of a checkpoint (a result with many faces is a few kB).
const maxLine = 64 << 20

// Output is the results destination of one run. It is not safe for concurrent use: the run
// writes its rows in order from one goroutine.
type Output struct {
	b    *blob.Bucket
	loc  objstore.Location
	opts Options

	done     map[string]struct{} // inputs the checkpoints hold
	complete bool                // Resume found OUT and no checkpoint: nothing is left to do
	next     int                 // number of the next checkpoint
	buf      bytes.Buffer        // rows of the checkpoint being filled
	rows     int                 // rows in buf
	since    time.Time           // when buf got its first row
	enc      report.Encoder      // NDJSON into buf
}

// Open prepares the output at loc. Without Resume it deletes the checkpoints of an earlier run;
// with it, it reads them (or notes that OUT is already complete).
func Open(ctx context.Context, b *blob.Bucket, loc objstore.Location, opts Options) (*Output, error) {
	if opts.Rows <= 0 {
		opts.Rows = 1000
	}
	if opts.Every <= 0 {
		opts.Every = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if loc.IsPrefix() {
		return nil, fmt.Errorf("--out %s: names a prefix; give the object or file to write, e.g. %spart-0000.ndjson", loc, loc)
	}
	o := &Output{b: b, loc: loc, opts: opts, done: map[string]struct{}{}, next: 1}
	o.enc, _ = report.NewEncoder(report.NDJSON, &o.buf, report.EncoderOptions{})
	chunks, err := o.checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	if !opts.Resume {
		for _, c := range chunks {
			if err := b.Delete(ctx, c.key); err != nil && !objstore.IsNotFound(err) {
				return nil, fmt.Errorf("delete old checkpoint %s: %s", loc.Name(c.key), objstore.Describe(err))
			}
		}
		return o, nil
	}
	if len(chunks) == 0 {
		exists, err := b.Exists(ctx, loc.Key)
		if err != nil {
			return nil, fmt.Errorf("--resume: %s: %s", loc, objstore.Describe(err))
		}
		o.complete = exists
		return o, nil
	}
	for _, c := range chunks {
		err := o.readChunk(ctx, c.key, func(name string, _ []byte) error {
			if _, dup := o.done[name]; dup {
				return fmt.Errorf("%s is in two checkpoints (was the output written by two runs at once?)", name)
			}
			o.done[name] = struct{}{}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("--resume: %w", err)
		}
		o.next = c.n + 1
	}
	return o, nil
}

// Complete reports whether Resume found the output already composed (and no checkpoint): the
// run has nothing to score.
func (o *Output) Complete() bool { return o.complete }

// Resumed is how many inputs the checkpoints of earlier runs hold.
func (o *Output) Resumed() int { return len(o.done) }

// Done reports whether the checkpoints of an earlier run hold the result of input name.
func (o *Output) Done(name string) bool {
	_, ok := o.done[name]
	return ok
}

// Write adds a result and commits the checkpoint when it is full or old enough.
func (o *Output) Write(ctx context.Context, r scorer.Result) error {
	if o.rows == 0 {
		o.since = o.opts.Now()
	}
	if err := o.enc.Write(r); err != nil {
		return err
	}
	o.rows++
	if o.rows >= o.opts.Rows || o.opts.Now().Sub(o.since) >= o.opts.Every {
		return o.Flush(ctx)
	}
	return nil
}

// Flush commits the rows written since the last checkpoint as the next checkpoint. It is what
// an interrupted run calls on its way out (with a context that is not cancelled).
func (o *Output) Flush(ctx context.Context) error {
	if o.rows == 0 {
		return nil
	}
	key := o.chunkKey(o.next)
	if err := o.b.WriteAll(ctx, key, o.buf.Bytes(), &blob.WriterOptions{ContentType: "application/x-ndjson"}); err != nil {
		return fmt.Errorf("write checkpoint %s: %s", o.loc.Name(key), objstore.Describe(err))
	}
	o.next++
	o.buf.Reset()
	o.rows = 0
	return nil
}

// Checkpoints names where the checkpoints are kept, for messages.
func (o *Output) Checkpoints() string { return o.loc.Name(o.prefix()) }

// Finish commits the last checkpoint, composes every checkpoint into the output in the run's
// format and deletes them. It returns the summary of all the rows, this run's and the earlier
// ones'. If the composing fails, the output is not written and the checkpoints are kept.
func (o *Output) Finish(ctx context.Context, elapsed time.Duration) (report.Summary, error) {
	var sum report.Summary
	if err := o.Flush(ctx); err != nil {
		return sum, err
	}
	chunks, err := o.checkpoints(ctx)
	if err != nil {
		return sum, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One 5 MiB part at a time (S3's smallest): the output is uploaded as it is composed, so
	// memory stays flat however many rows it has, where the drivers' defaults (S3: five 8 MiB
	// parts in flight) would hold tens of MiB.
	w, err := o.b.NewWriter(wctx, o.loc.Key, &blob.WriterOptions{ContentType: contentType(o.opts.Format),
		BufferSize: 5 << 20, MaxConcurrency: 1})
	if err != nil {
		return sum, fmt.Errorf("write %s: %s", o.loc, objstore.Describe(err))
	}
	// A cancelled writer's Close discards what was written: OUT never holds part of the rows.
	abort := func(err error) (report.Summary, error) {
		cancel()
		w.Close()
		return sum, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc, err := report.NewEncoder(o.opts.Format, bw, report.EncoderOptions{})
	if err != nil {
		return abort(err)
	}
	if err := enc.Begin(); err != nil {
		return abort(fmt.Errorf("write %s: %w", o.loc, err))
	}
	for _, c := range chunks {
		err := o.readChunk(ctx, c.key, func(_ string, line []byte) error {
			var r scorer.Result
			if err := json.Unmarshal(line, &r); err != nil {
				return err
			}
			r.File = fileName(line, r.File)
			sum.Add(r)
			if o.opts.Format == report.NDJSON { // the checkpoint's bytes, exactly
				_, err := bw.Write(append(line, '\n'))
				return err
			}
			return enc.Write(r)
		})
		if err != nil {
			return abort(err)
		}
	}
	sum.SetElapsed(elapsed)
	if err := enc.End(sum); err != nil {
		return abort(fmt.Errorf("write %s: %w", o.loc, err))
	}
	if err := bw.Flush(); err != nil {
		return abort(fmt.Errorf("write %s: %w", o.loc, err))
	}
	if err := w.Close(); err != nil {
		return sum, fmt.Errorf("write %s: %s", o.loc, objstore.Describe(err))
	}
	for _, c := range chunks {
		if err := o.b.Delete(ctx, c.key); err != nil && !objstore.IsNotFound(err) {
			return sum, fmt.Errorf("delete checkpoint %s: %s", o.loc.Name(c.key), objstore.Describe(err))
		}
	}
	if dir, ok := o.loc.LocalPath(o.prefix()); ok {
		os.Remove(dir) // fileblob leaves the emptied directory behind; it is empty or in use
	}
	return sum, nil
}

// contentType is the MIME type of an output format.
func contentType(f report.Format) string {
	switch f {
	case report.NDJSON:
		return "application/x-ndjson"
	case report.JSON:
		return "application/json"
	case report.CSV:
		return "text/csv"
	}
	return "text/plain; charset=utf-8"
}

// prefix is the key prefix of the checkpoints: OUT.partial/.
func (o *Output) prefix() string { return o.loc.Key + ".partial/" }

func (o *Output) chunkKey(n int) string { return fmt.Sprintf("%s%06d.ndjson", o.prefix(), n) }

type chunk struct {
	key string
	n   int
}

// checkpoints lists the checkpoints under OUT.partial/ in order. Other keys there (a
// temporary file fileblob left when killed mid-write) are not checkpoints.
func (o *Output) checkpoints(ctx context.Context) ([]chunk, error) {
	var chunks []chunk
	for key, err := range objstore.List(ctx, o.b, o.prefix(), 0) {
		if err != nil {
			if objstore.IsNotFound(err) {
				return nil, fmt.Errorf("--out %s: bucket not found", o.loc)
			}
			return nil, fmt.Errorf("list checkpoints %s: %s", o.Checkpoints(), objstore.Describe(err))
		}
		base := path.Base(key)
		digits, ok := strings.CutSuffix(base, ".ndjson")
		if !ok || len(digits) < 6 || strings.Trim(digits, "0123456789") != "" || path.Dir(key)+"/" != o.prefix() {
			continue
		}
		n, err := strconv.Atoi(digits)
		if err != nil {
			continue
		}
		chunks = append(chunks, chunk{key, n})
	}
	slices.SortFunc(chunks, func(a, b chunk) int { return a.n - b.n })
	return chunks, nil
}

// readChunk streams the lines of one checkpoint to fn with each row's input name.
func (o *Output) readChunk(ctx context.Context, key string, fn func(name string, line []byte) error) error {
	name := o.loc.Name(key)
	r, err := o.b.NewReader(ctx, key, nil)
	if err != nil {
		return fmt.Errorf("read checkpoint %s: %s", name, objstore.Describe(err))
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for line := 1; sc.Scan(); line++ {
		var row struct {
			File string `json:"file"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return fmt.Errorf("checkpoint %s line %d: %w", name, line, err)
		}
		if err := fn(fileName(sc.Bytes(), row.File), sc.Bytes()); err != nil {
			return fmt.Errorf("checkpoint %s line %d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read checkpoint %s: %w", name, err)
	}
	return nil
}

// fileName is a row's exact input name: its file_b64 when the name was not UTF-8, else file.
func fileName(line []byte, file string) string {
	if !bytes.Contains(line, []byte(`"file_b64"`)) {
		return file
	}
	var row struct {
		B64 string `json:"file_b64"`
	}
	if json.Unmarshal(line, &row) != nil {
		return file
	}
	b, err := base64.StdEncoding.DecodeString(row.B64)
	if err != nil {
		return file
	}
	return string(b)
}
