package archive

import (
	"crypto/sha256"
	"fmt"
	"io"
	"strconv"

	"github.com/bassareggiana/faldone/audit"
	"github.com/bassareggiana/faldone/auth/access"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// A file's digest (its SHA-256, the impronta the AgID guidelines keep with
// each document) is computed while its content streams in, recorded with
// the size and ETag of the version written, and carried by copies and
// moves; it never comes from reading a file back on a request's path.
// What the storage holds now is described by a recorded digest only while
// size and ETag still match: a file changed by another tool has none
// until `faldone verify --fill` computes it again.

// digestBatch bounds the paths of one digest lookup or write.
const digestBatch = 1000

// Current reports whether d describes the version of the file e that the
// storage holds: the one rule for whether a recorded digest still counts.
func Current(d state.Digest, e backends.Entry) bool { return current(d, e) }

func current(d state.Digest, e backends.Entry) bool {
	v := Version(e)
	return !e.IsDir && v != "" && d.ETag == v && d.Size == e.Size
}

// Version names the version of the file e that a digest is bound to (the
// state.Digest's ETag): the storage's ETag or, for an object that has none
// (written into versitygw's folder by another tool, say), its modification
// time; "" when neither is known, and no digest can be bound.
func Version(e backends.Entry) string {
	switch {
	case e.ETag != "":
		return e.ETag
	case !e.ModTime.IsZero():
		return "mtime:" + strconv.FormatInt(e.ModTime.UnixNano(), 10)
	}
	return ""
}

// Digest returns the SHA-256 of the file e (an entry of this archive, as a
// read or listing returned it); ok is false when none is recorded for its
// current version.
func (o *Op) Digest(e backends.Entry) (sum [32]byte, ok bool, err error) {
	if e.IsDir {
		return sum, false, nil
	}
	p := namespacePath(e.Path)
	ds, err := o.s.store.DigestsOf(o.ctx, []string{p})
	if err != nil {
		return sum, false, fmt.Errorf("digest of %s: %w", p, err)
	}
	d, found := ds[p]
	if !found || !current(d, e) {
		return sum, false, nil
	}
	return d.SHA256, true, nil
}

// Digests returns, by namespace path, the SHA-256 of those files of entries
// (a listing's page) that have one for their current version.
func (o *Op) Digests(entries []backends.Entry) (map[string][32]byte, error) {
	out := make(map[string][32]byte)
	var paths []string
	byPath := make(map[string]backends.Entry)
	for _, e := range entries {
		if e.IsDir {
			continue
		}
		p := namespacePath(e.Path)
		paths = append(paths, p)
		byPath[p] = e
	}
	for len(paths) > 0 {
		n := min(len(paths), digestBatch)
		ds, err := o.s.store.DigestsOf(o.ctx, paths[:n])
		if err != nil {
			return nil, fmt.Errorf("digests of %d files: %w", n, err)
		}
		for p, d := range ds {
			if current(d, byPath[p]) {
				out[p] = d.SHA256
			}
		}
		paths = paths[n:]
	}
	return out, nil
}

// Adopt reads the stored file e whole, records the digest of what it read
// for e's version and returns it: for a file stored without one (by
// another tool, or by a write that ended before its digest was kept),
// whose content a caller must know. It reads the storage, unlike every
// other way a digest comes: never on a request's path.
func (o *Op) Adopt(e backends.Entry) ([32]byte, error) {
	var sum [32]byte
	p := namespacePath(e.Path)
	if err := o.Allow(access.Read, p); err != nil {
		return sum, err
	}
	obj, err := o.s.fs.Open(o.ctx, e.Path, nil)
	if err != nil {
		return sum, err
	}
	defer obj.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj.Body)
	if err != nil {
		return sum, fmt.Errorf("read %s: %w", p, err)
	}
	if n != obj.Entry.Size {
		return sum, fmt.Errorf("read %s: %d bytes of %d: %w", p, n, obj.Entry.Size, backends.ErrUnavailable)
	}
	sum = [32]byte(h.Sum(nil))
	d := state.Digest{Path: p, SHA256: sum, Size: n, ETag: Version(obj.Entry), Recorded: o.s.now()}
	if err := o.s.store.PutDigests(o.ctx, []state.Digest{d}); err != nil {
		return sum, fmt.Errorf("record the digest of %s: %w", p, err)
	}
	return sum, nil
}

// record keeps the digest of the version e of a file just written. The
// content is stored whatever happens here: a digest that cannot be kept is
// logged, and the file is one that verify reports as unknown.
func (o *Op) record(e backends.Entry, sum [32]byte) {
	audit.NoteSHA256(o.ctx, sum)
	d := state.Digest{Path: namespacePath(e.Path), SHA256: sum, Size: e.Size, ETag: Version(e), Recorded: o.s.now()}
	if err := o.s.store.PutDigests(o.ctx, []state.Digest{d}); err != nil {
		o.s.log.Error("digest not recorded; `faldone verify --fill` records it", "path", d.Path, "err", err)
	}
}

// copied is a file that a copy wrote: the source's entry and the copy's.
type copied struct{ from, to backends.Entry }

// carry gives each copy the digest of its source, where the source had one
// for the version copied: a copy has the same bytes, which are not read
// again to prove it. Like record, a failure is logged, not returned.
func (o *Op) carry(files []copied) {
	for len(files) > 0 {
		batch := files[:min(len(files), digestBatch)]
		files = files[len(batch):]
		paths := make([]string, len(batch))
		for i, c := range batch {
			paths[i] = namespacePath(c.from.Path)
		}
		ds, err := o.s.store.DigestsOf(o.ctx, paths)
		if err != nil {
			o.s.log.Error("digests of a copy not carried; `faldone verify --fill` records them", "files", len(batch), "err", err)
			continue
		}
		now := o.s.now()
		var out []state.Digest
		for _, c := range batch {
			d, ok := ds[namespacePath(c.from.Path)]
			if !ok || !current(d, c.from) || c.to.Size != c.from.Size {
				continue
			}
			out = append(out, state.Digest{Path: namespacePath(c.to.Path), SHA256: d.SHA256, Size: c.to.Size, ETag: Version(c.to), Recorded: now})
		}
		if len(out) == 0 {
			continue
		}
		if err := o.s.store.PutDigests(o.ctx, out); err != nil {
			o.s.log.Error("digests of a copy not carried; `faldone verify --fill` records them", "files", len(out), "err", err)
		}
	}
}
