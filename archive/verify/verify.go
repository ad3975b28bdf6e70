// Package verify proves the archive intact: it reads files again, computes
// their SHA-256 and compares it with the digest recorded when they were
// written (archive/digest.go), and finds recorded files that are gone. It
// is `faldone verify`; with Fill it also records the digests of files that
// have none, those stored before digests were kept or by another tool.
package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// Store is what verification needs of the state store.
type Store interface {
	DigestsOf(ctx context.Context, paths []string) (map[string]state.Digest, error)
	TreeDigests(ctx context.Context, p string, fn func(state.Digest) error) error
	PutDigests(ctx context.Context, ds []state.Digest) error
}

// Storage is what verification reads: the namespace of every Comune.
type Storage interface {
	backends.Lister
	Stat(ctx context.Context, p string) (backends.Entry, error)
	Open(ctx context.Context, p string, r *backends.Range) (*backends.Object, error)
}

// Kind is what verification found wrong with a file.
type Kind string

const (
	// Changed: the content is not the one recorded. Either the storage
	// holds another version (written by another tool) whose bytes differ,
	// or the same version now reads differently (damage in the storage).
	Changed Kind = "changed"
	// Missing: a digest is recorded, the file is gone.
	Missing Kind = "missing"
	// Unknown: no digest is recorded (Fill records one instead).
	Unknown Kind = "unknown"
	// Unreadable: the file could not be read to the end.
	Unreadable Kind = "unreadable"
)

// Kinds returns every Kind, for those that count problems by kind.
func Kinds() []Kind { return []Kind{Changed, Missing, Unknown, Unreadable} }

// Problem is one file that verification could not prove intact.
type Problem struct {
	Path   string // namespace path
	Kind   Kind
	Detail string // for the operator, in English
}

// Options configure a run. Zero values: check only, as fast as the
// storage reads.
type Options struct {
	// Fill records the digest of each file that has none.
	Fill bool
	// ReportOnly records nothing, not even the digest of a file rewritten
	// with the same bytes bound to its new version (it counts as Rebound
	// all the same): the scheduled scrub reports, and leaves recording to
	// writes and to `faldone verify`. It excludes Fill.
	ReportOnly bool
	// Rate bounds the bytes read per second (0: no bound), so that a run
	// over the whole archive leaves the storage to the people using it.
	Rate int64
	// Problem is told of each problem as it is found. May be nil.
	Problem func(Problem)
	// Progress is told of each file once it is checked. May be nil.
	Progress func(path string, size int64)
}

// Summary counts what a run found.
type Summary struct {
	Files, Bytes int64
	Intact       int64 // read, and equal to the recorded digest
	Filled       int64 // had none; Fill recorded it
	Rebound      int64 // rewritten by another tool with the same bytes: the digest now names the new version
	Problems     map[Kind]int64
}

// OK reports whether every file was proved intact (or, with Fill, given
// its digest).
func (s Summary) OK() bool {
	for _, n := range s.Problems {
		if n > 0 {
			return false
		}
	}
	return true
}

// batch is the files checked against the store in one query.
const batch = 500

// Run verifies the tree at the namespace path root ("/" for the whole
// archive). An error is a failure to list or to reach the store, which
// ends the run; problems with single files are reported and counted.
func Run(ctx context.Context, fs Storage, st Store, root string, opts Options) (Summary, error) {
	v := &run{ctx: ctx, fs: fs, st: st, opts: opts, seen: map[uint64]struct{}{},
		sum: Summary{Problems: map[Kind]int64{}}, start: time.Now()}
	if opts.Fill && opts.ReportOnly {
		return v.sum, errors.New("verify: Fill and ReportOnly exclude each other")
	}
	broot := strings.Trim(root, "/")
	e, err := fs.Stat(ctx, broot)
	if err != nil {
		return v.sum, fmt.Errorf("verify %s: %w", root, err)
	}
	// The namespace lists its root (the Comuni) only one level at a time.
	trees := []string{broot}
	if e.IsDir && broot == "" {
		trees = nil
		for c, err := range backends.All(ctx, fs, "", backends.ListOptions{}) {
			if err != nil {
				return v.sum, fmt.Errorf("verify %s: list: %w", root, err)
			}
			if c.IsDir {
				trees = append(trees, c.Path)
			}
		}
	}
	if !e.IsDir {
		if err := v.check([]backends.Entry{e}); err != nil {
			return v.sum, err
		}
		trees = nil
	}
	for _, tree := range trees {
		var files []backends.Entry
		for c, err := range backends.All(ctx, fs, tree, backends.ListOptions{Recursive: true}) {
			if err != nil {
				return v.sum, fmt.Errorf("verify %s: list: %w", "/"+tree, err)
			}
			if c.IsDir {
				continue
			}
			if files = append(files, c); len(files) == batch {
				if err := v.check(files); err != nil {
					return v.sum, err
				}
				files = files[:0]
			}
		}
		if err := v.check(files); err != nil {
			return v.sum, err
		}
	}
	if err := v.missing(root); err != nil {
		return v.sum, err
	}
	return v.sum, nil
}

type run struct {
	ctx   context.Context
	fs    Storage
	st    Store
	opts  Options
	sum   Summary
	seen  map[uint64]struct{} // hashes of the paths listed, for missing
	start time.Time
	read  int64 // bytes read, for the rate
}

func (v *run) problem(p string, k Kind, detail string) {
	v.sum.Problems[k]++
	if v.opts.Problem != nil {
		v.opts.Problem(Problem{Path: p, Kind: k, Detail: detail})
	}
}

func pathKey(p string) uint64 {
	h := fnv.New64a()
	io.WriteString(h, p)
	return h.Sum64()
}

// check verifies files, a batch of a listing.
func (v *run) check(files []backends.Entry) error {
	if len(files) == 0 {
		return nil
	}
	paths := make([]string, len(files))
	for i, e := range files {
		paths[i] = "/" + e.Path
		v.seen[pathKey(paths[i])] = struct{}{}
	}
	recorded, err := v.st.DigestsOf(v.ctx, paths)
	if err != nil {
		return fmt.Errorf("verify: digests: %w", err)
	}
	var record []state.Digest
	for i, e := range files {
		p := paths[i]
		d, has := recorded[p]
		if !has && !v.opts.Fill {
			// Nothing to compare with: not worth reading.
			v.problem(p, Unknown, "no SHA-256 recorded (faldone verify --fill records it)")
			v.done(p, e.Size)
			continue
		}
		sum, n, read, err := v.hash(e)
		if err != nil {
			if ctxErr := v.ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			v.problem(p, Unreadable, err.Error())
			v.done(p, n)
			continue
		}
		// Judged against the version read, which a write since the listing
		// may have replaced: the bytes hashed are that version's.
		fresh := state.Digest{Path: p, SHA256: sum, Size: n, ETag: archive.Version(read), Recorded: time.Now()}
		switch {
		case !has:
			record = append(record, fresh)
			v.sum.Filled++
		case sum != d.SHA256 && archive.Version(read) != archive.Version(e) && v.writtenSince(p, read, sum):
			v.sum.Intact++
		case sum != d.SHA256:
			why := "content differs from the recorded SHA-256"
			if !archive.Current(d, read) {
				why = "replaced in the storage since its SHA-256 was recorded, with other content"
			}
			v.problem(p, Changed, fmt.Sprintf("%s: recorded %s, read %s", why, hex.EncodeToString(d.SHA256[:]), hex.EncodeToString(sum[:])))
		case !archive.Current(d, read):
			// The same bytes under a new version: the digest names it now.
			record = append(record, fresh)
			v.sum.Rebound++
		default:
			v.sum.Intact++
		}
		v.done(p, n)
	}
	if len(record) > 0 && !v.opts.ReportOnly {
		if err := v.st.PutDigests(v.ctx, record); err != nil {
			return fmt.Errorf("verify: record digests: %w", err)
		}
	}
	return nil
}

func (v *run) done(p string, n int64) {
	v.sum.Files++
	v.sum.Bytes += n
	if v.opts.Progress != nil {
		v.opts.Progress(p, n)
	}
}

// writtenSince reports whether the file at p, listed before a write
// replaced it, now has a digest recorded for the version read whose
// content is sum: written through the archive while it was being
// checked, not changed behind it. Asked only then, which is rare.
func (v *run) writtenSince(p string, read backends.Entry, sum [32]byte) bool {
	ds, err := v.st.DigestsOf(v.ctx, []string{p})
	if err != nil {
		return false // judged on what is known: reported as changed
	}
	d, ok := ds[p]
	return ok && archive.Current(d, read) && d.SHA256 == sum
}

// hash reads the file e whole and returns its SHA-256 and length, and the
// version that was read (which a write since the listing may have
// replaced); a length other than the opened object's is a failure to
// read it.
func (v *run) hash(e backends.Entry) (sum [32]byte, n int64, read backends.Entry, err error) {
	obj, err := v.fs.Open(v.ctx, e.Path, nil)
	if err != nil {
		return sum, 0, e, fmt.Errorf("open: %w", err)
	}
	defer obj.Body.Close()
	read = obj.Entry
	if archive.Version(read) == "" {
		read = e // a storage that does not say which version it opened
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		k, rerr := obj.Body.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		v.pace(k)
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return sum, n, read, fmt.Errorf("read after %d bytes: %w", n, rerr)
		}
	}
	if obj.Size >= 0 && n != obj.Size {
		return sum, n, read, fmt.Errorf("read %d bytes of %d", n, obj.Size)
	}
	read.Size = n // what was read, also where the storage did not say
	return [32]byte(h.Sum(nil)), n, read, nil
}

// pace sleeps as long as the bytes read so far are ahead of the rate.
func (v *run) pace(k int) {
	v.read += int64(k)
	if v.opts.Rate <= 0 {
		return
	}
	due := time.Duration(float64(v.read) / float64(v.opts.Rate) * float64(time.Second))
	if ahead := due - time.Since(v.start); ahead > 0 {
		select {
		case <-time.After(ahead):
		case <-v.ctx.Done():
		}
	}
}

// missing reports the files of the tree at root that have a digest and
// were not listed. A file that the listing missed because it came after it
// is found by its Stat, and not reported.
func (v *run) missing(root string) error {
	var gone []string
	err := v.st.TreeDigests(v.ctx, root, func(d state.Digest) error {
		if _, ok := v.seen[pathKey(d.Path)]; !ok {
			gone = append(gone, d.Path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("verify: digests of %s: %w", root, err)
	}
	for _, p := range gone {
		_, err := v.fs.Stat(v.ctx, strings.TrimPrefix(p, "/"))
		switch {
		case errors.Is(err, backends.ErrNotFound):
			v.problem(p, Missing, "a SHA-256 is recorded, the file is not in the storage")
		case err != nil:
			return fmt.Errorf("verify: %s: %w", p, err)
		}
	}
	return nil
}
