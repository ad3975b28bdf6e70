package archive

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// Put stores body as the file at p, size bytes long (-1: unknown until its
// end). The content streams to the backend's upload, which becomes visible
// only when it was received whole: a sender that goes away, or sends fewer
// bytes than it announced, leaves the previous content as it was. It
// returns the new entry and whether the file is new.
func (o *Op) Put(p string, body io.Reader, size int64) (backends.Entry, bool, error) {
	w, err := o.PutWith(p, body, size, PutOptions{})
	return w.Entry, w.Created, err
}

// PutOptions are what a writer knows of the content beforehand, and what
// it wants done with a file already at the path (an import's needs).
type PutOptions struct {
	// SHA256, when set, is the digest the content must have (an import's
	// manifest gives it): otherwise the upload is abandoned before it
	// becomes visible, with a *DigestMismatchError.
	SHA256 *[32]byte
	// KeepSame, with SHA256: a file already at the path with that digest
	// is left as it is, and nothing is read from body (Written.Kept). A
	// file stored without a digest is read once to learn it (Adopt).
	KeepSame bool
	// NoReplace: a file already at the path with other content is left as
	// it is, with an *ExistsError.
	NoReplace bool
}

// Written is what a Put wrote.
type Written struct {
	Entry   backends.Entry
	Created bool     // the file is new
	Kept    bool     // KeepSame found the same content there: nothing was written
	SHA256  [32]byte // of the content, written or kept
}

// ExistsError: NoReplace found a file with other content at the path. It
// is ErrDestinationExists.
type ExistsError struct {
	SHA256 [32]byte // of the file there, when Known
	Known  bool
}

func (e *ExistsError) Error() string {
	if !e.Known {
		return "a file without a recorded SHA-256 is there"
	}
	return fmt.Sprintf("a file with SHA-256 %x is there", e.SHA256)
}

func (e *ExistsError) Unwrap() error { return ErrDestinationExists }

// PutWith is Put with what the writer knows of the content.
func (o *Op) PutWith(p string, body io.Reader, size int64, opts PutOptions) (Written, error) {
	e, created, sum, err := o.put(p, body, size, opts)
	if k, ok := err.(kept); ok {
		return Written{Entry: k.e, Kept: true, SHA256: k.sum}, nil
	}
	return Written{Entry: e, Created: created, SHA256: sum}, err
}

// kept is put's way of saying that KeepSame left the file e as it was.
type kept struct {
	e   backends.Entry
	sum [32]byte
}

func (kept) Error() string { return "kept" }

func (o *Op) put(p string, body io.Reader, size int64, opts PutOptions) (backends.Entry, bool, [32]byte, error) {
	var none [32]byte
	p, err := Path(p)
	if err != nil {
		return backends.Entry{}, false, none, err
	}
	if err := o.Allow(access.Write, p); err != nil {
		return backends.Entry{}, false, none, err
	}
	if p == "/" {
		return backends.Entry{}, false, none, fmt.Errorf("PUT on the root: %w", backends.ErrIsDir)
	}
	// A Comune's own folder is no file to write.
	if o.pinned(p) {
		return backends.Entry{}, false, none, fmt.Errorf("PUT on %s: %w", p, backends.ErrPermission)
	}
	// One look finds the file that the upload replaces, a folder in its
	// way and, mostly, the folder that will hold it: the storage is told
	// what was found, and checks only the rest.
	at, err := o.look(p)
	if err != nil {
		return backends.Entry{}, false, none, err
	}
	if at.Dir {
		return backends.Entry{}, false, none, fmt.Errorf("PUT on the folder %s: %w", p, backends.ErrIsDir)
	}
	var old backends.Entry
	exists := at.File != nil
	if exists {
		old = *at.File
		if opts.KeepSame || opts.NoReplace {
			if err := o.keep(old, opts); err != nil {
				return backends.Entry{}, false, none, err
			}
		}
	}
	if err := o.CheckWrite(Target{Path: p, Member: !exists}); err != nil {
		return backends.Entry{}, false, none, err
	}
	// An upload known to exceed the quota is refused before it streams;
	// one of unknown size (chunked, a form's file), as soon as it does.
	var room *quotaReader
	if q := o.s.opts.Quota; q != nil {
		if _, avail, ok := q.Quota(p); ok {
			switch {
			case size > 0 && size-old.Size > avail:
				return backends.Entry{}, false, none, fmt.Errorf("%d bytes beyond the quota of %s: %w", size, p, ErrTooLarge)
			case size < 0:
				room = &quotaReader{r: body, left: avail + old.Size}
				body = room
			}
		}
	}
	told := backends.CreateOptions{ParentExists: o.parentKnown(p, at), NoDir: at.noDir}
	up, err := o.s.fs.Create(o.ctx, backendPath(p), size, told)
	if errors.Is(err, backends.ErrNotFound) || errors.Is(err, backends.ErrNotDir) {
		return backends.Entry{}, false, none, fmt.Errorf("PUT %s: %w: %w", p, ErrConflict, err)
	}
	if err != nil {
		return backends.Entry{}, false, none, err
	}
	if o.s.opts.OnUpload != nil {
		o.s.opts.OnUpload(1)
		defer o.s.opts.OnUpload(-1)
	}
	buf := o.s.buffer()
	br := &bodyReader{r: body}
	// Hashed as it passes: the digest costs no second read of the content.
	h := sha256.New()
	n, err := io.CopyBuffer(up, io.TeeReader(br, h), buf)
	o.s.put(buf)
	switch {
	case room != nil && room.over:
		err = fmt.Errorf("more than the %d bytes left in the quota of %s: %w", room.left, p, ErrTooLarge)
	// Only content that ended short is the sender's fault: a storage that
	// failed, or a shutdown that cancelled the upload, keeps its own error
	// (503), which a client may retry.
	case br.err != nil:
		err = fmt.Errorf("reading the content: %w: %w", ErrIncomplete, br.err)
	case err == nil && size >= 0 && n != size:
		err = fmt.Errorf("content has %d bytes, %d announced: %w", n, size, ErrIncomplete)
	case err == nil && opts.SHA256 != nil && [32]byte(h.Sum(nil)) != *opts.SHA256:
		err = &DigestMismatchError{Want: *opts.SHA256, Got: [32]byte(h.Sum(nil))}
	}
	if err != nil {
		if aerr := up.Abort(o.ctx); aerr != nil {
			o.s.log.Error("abort upload", "path", p, "err", aerr)
		}
		return backends.Entry{}, false, none, fmt.Errorf("PUT %s after %d bytes: %w", p, n, err)
	}
	// The content it replaces is kept as a version, once the new one is
	// whole: a write that fails keeps nothing it need not.
	var keep func(written bool)
	if exists {
		if keep, err = o.preserve(old); err != nil {
			if aerr := up.Abort(o.ctx); aerr != nil {
				o.s.log.Error("abort upload", "path", p, "err", aerr)
			}
			return backends.Entry{}, false, none, err
		}
	}
	e, err := up.Commit(o.ctx)
	if keep != nil {
		keep(err == nil)
	}
	if err != nil {
		return backends.Entry{}, false, none, err
	}
	if !exists {
		o.arrived(p, true)
	}
	sum := [32]byte(h.Sum(nil))
	o.record(e, sum)
	if q := o.s.opts.Quota; q != nil {
		q.Add(p, e.Size-old.Size)
	}
	o.changed(p, false)
	// The folder holds the file now.
	o.s.folders.saw(parentOf(p), o.s.now())
	o.s.catalogue().Written(o.ctx, p)
	return e, !exists, sum, nil
}

// keep decides, for KeepSame and NoReplace, on the file e already there:
// a kept error to leave it, an *ExistsError to refuse, nil to replace it.
func (o *Op) keep(e backends.Entry, opts PutOptions) error {
	stored, known, err := o.Digest(e)
	if err != nil {
		return err
	}
	if !known && opts.KeepSame && opts.SHA256 != nil {
		if stored, err = o.Adopt(e); err != nil {
			return err
		}
		known = true
	}
	switch {
	case known && opts.KeepSame && opts.SHA256 != nil && stored == *opts.SHA256:
		return kept{e: e, sum: stored}
	case opts.NoReplace:
		return &ExistsError{SHA256: stored, Known: known}
	}
	return nil
}

// Mkdir makes the folder p in a folder that exists.
func (o *Op) Mkdir(p string) error {
	p, err := Path(p)
	if err != nil {
		return err
	}
	if err := o.Allow(access.Write, p); err != nil {
		return err
	}
	if _, err := o.Stat(p); err == nil {
		return fmt.Errorf("MKCOL %s: %w", p, ErrExists)
	} else if !errors.Is(err, backends.ErrNotFound) {
		return err
	}
	if err := o.CheckWrite(Target{Path: p, Member: true}); err != nil {
		return err
	}
	err = o.s.fs.Mkdir(o.ctx, backendPath(p))
	if errors.Is(err, backends.ErrNotFound) || errors.Is(err, backends.ErrNotDir) {
		return fmt.Errorf("MKCOL %s: %w: %w", p, ErrConflict, err)
	}
	if err != nil {
		return err
	}
	o.changed(p, false)
	now := o.s.now()
	o.s.folders.saw(p, now)
	o.s.folders.saw(parentOf(p), now)
	o.s.catalogue().FolderMade(o.ctx, p, o.by())
	return nil
}

// PatchProps sets and removes dead properties of the resource at p, in one
// change: the sets in order, the removals after them. With nothing to set
// or remove it only checks that the change would be allowed (a request
// refused for other reasons learns why the same way).
func (o *Op) PatchProps(p string, set []state.Prop, remove []state.PropName) error {
	p, err := Path(p)
	if err != nil {
		return err
	}
	if err := o.Allow(access.Write, p); err != nil {
		return err
	}
	if o.propsChecked != p { // checked once a request, however many calls
		if _, err := o.Stat(p); err != nil {
			return err
		}
		if err := o.CheckWrite(Target{Path: p}); err != nil {
			return err
		}
		o.propsChecked = p
	}
	if len(set) == 0 && len(remove) == 0 {
		return nil
	}
	if err := o.s.store.PatchProps(o.ctx, p, set, remove); err != nil {
		return err
	}
	o.changed(p, false)
	return nil
}

// quotaReader passes at most left bytes of r, then fails: an upload of
// unknown size that outgrows the space its Comune has left.
type quotaReader struct {
	r          io.Reader
	left, read int64
	over       bool
}

func (q *quotaReader) Read(p []byte) (int, error) {
	n, err := q.r.Read(p)
	q.read += int64(n)
	if q.read > q.left {
		q.over = true
		return n, ErrTooLarge
	}
	return n, err
}
