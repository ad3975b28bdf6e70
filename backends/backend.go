// Package backends defines the storage-backend interface that the gateway serves
// over WebDAV. It is shaped for object storage: flat keys, listings that carry every
// entry's metadata, ranged reads, uploads that become visible only on commit,
// server-side copies and batched deletes. Folder semantics are layered on top.
//
// Paths are slash-separated and relative to the backend root, with no leading or
// trailing slash; "" is the root. Implementations receive paths already cleaned by
// the gateway but must still refuse any path that would leave their root.
package backends

import (
	"context"
	"errors"
	"io"
	"path"
	"strconv"
	"time"
)

// Errors every backend returns (wrapped with %w) so that the gateway maps them
// to HTTP statuses in one place.
var (
	ErrNotFound       = errors.New("not found")
	ErrExist          = errors.New("already exists")
	ErrNotDir         = errors.New("not a folder")
	ErrIsDir          = errors.New("is a folder")
	ErrInvalidPath    = errors.New("invalid path")
	ErrRange          = errors.New("range not satisfiable")
	ErrTooLarge       = errors.New("entity too large or quota exceeded")
	ErrUnavailable    = errors.New("storage unavailable")
	ErrAccessDenied   = errors.New("storage access denied")
	ErrPermission     = errors.New("operation not permitted at this path")
	ErrIncomplete     = errors.New("upload incomplete")
	ErrUploadFinished = errors.New("upload already committed or aborted")
)

// Entry describes one file or folder.
type Entry struct {
	Path        string    // relative to the backend root, without trailing slash
	IsDir       bool      // a folder: a marker object or a prefix with objects under it
	Size        int64     // bytes; 0 for folders
	ETag        string    // opaque, unquoted; stable while the content is unchanged; "" for folders
	ModTime     time.Time // last modification as the storage records it
	ContentType string    // from the file name, never from the content; "" for folders
	// Attrs is what the backend learned of a file beyond these fields and
	// needs again when the entry is handed back to it (the headers that an
	// S3 copy keeps, which a HeadObject reads; see CopyOptions.Source), in
	// the backend's own encoding: opaque to every caller, and the same for
	// every lookup of an unchanged file. "" where the lookup did not read
	// them, as a listing does not.
	Attrs string
}

// Name is the last element of the entry's path.
func (e Entry) Name() string { return path.Base(e.Path) }

// ListOptions select one page of a listing.
type ListOptions struct {
	// Recursive lists every descendant instead of the direct children.
	Recursive bool
	// Token continues a listing where the previous page's Next left it.
	Token string
}

// Page is one page of a listing. Entries come in byte order of their keys: the
// path, with a trailing slash for a folder as for its marker object ("a-b",
// "a.b", "a/", "a/c"), which is the order an object store pages in.
type Page struct {
	Entries []Entry
	// Next is the token of the following page; "" when this page is the last.
	Next string
	// Self is the listed folder's own entry, on the first page only, when the
	// backend learns it from the same request (a folder on disk; an S3
	// folder marker, which sorts first); nil otherwise. It lets a client list
	// a folder without a separate Stat.
	Self *Entry
}

// Range selects part of a file. Start < 0 means the last Length bytes;
// Length < 0 means up to the end. As with HTTP byte ranges, a range reaching
// past the end is clipped to it, while one starting at or past the end, an
// empty suffix, and any suffix of an empty file are ErrRange.
type Range struct {
	Start, Length int64
}

// Object is an open file: its metadata and a stream of the requested bytes.
type Object struct {
	Entry
	Body   io.ReadCloser
	Start  int64 // offset of the first byte of Body in the file
	Length int64 // number of bytes Body yields
}

// Upload receives the content of a file. Nothing is visible at the path until
// Commit succeeds; Abort (or a failed Commit) leaves the previous content, if
// any, untouched and releases everything the upload held. Once the upload is
// committed or aborted, Write and Commit fail with ErrUploadFinished.
type Upload interface {
	io.Writer
	// Commit makes the written bytes the content of the file. When the size
	// given to Create was not negative and differs from the bytes written,
	// Commit fails with ErrIncomplete and the upload is aborted.
	Commit(ctx context.Context) (Entry, error)
	// Abort discards the upload. It is safe to call after Commit.
	Abort(ctx context.Context) error
}

// CreateOptions tell Create what its caller has already found out, in the
// same request, about the path it writes (see "Told" below).
type CreateOptions struct {
	// ParentExists: the caller saw p's parent folder exist.
	ParentExists bool
	// NoDir: the caller saw that no folder is at p.
	NoDir bool
}

// CopyOptions tell Copy what its caller has already found out, in the same
// request, about both ends (see "Told" below).
type CopyOptions struct {
	// Source is the file src as the caller's lookup of it in this request
	// described it (Stat, List, FileStater or Prober, on this backend): a
	// file that exists. Its Attrs, when the lookup read them (Stat), spare
	// the backend reading them again.
	Source *Entry
	// ParentExists: the caller saw dst's parent folder exist.
	ParentExists bool
	// NoDir: the caller saw that no folder is at dst.
	NoDir bool
}

// Backend is a storage backend. Every call does a bounded number of requests
// to the storage, whatever the size of the tree: List one per page, Stat and
// Open one or two, Delete one per batch of up to 1000 paths and one per
// folder it removes; Create, Mkdir and Copy the write and a few checks
// besides, fewer as their options tell more (S3: Create one listing for the
// parent folder and one for a folder at p, Copy a HeadObject of the source
// and the same two listings for dst, each left out when told).
//
// Told: a fact in CreateOptions or CopyOptions is the caller's word that it
// found it so just before the call (the archive service: in the same
// request, or for a parent folder within the few seconds it remembers
// folders), and that it has answered for it: a missing parent is its 409, a
// folder at the path its 405. A backend may then leave out the requests that
// would find the fact again; if the word was wrong, what it stores is the
// caller's doing (on S3, a file written into a folder that is gone makes the
// folder again). What costs it no request it refuses all the same: invalid
// paths, the root, a folder named as Copy's Source, a source gone by the time
// the copy runs, and on a disk whatever the file system refuses. The zero
// options are the untold call, which checks everything.
type Backend interface {
	// Stat describes the file or folder at p. The root "" is always a folder.
	Stat(ctx context.Context, p string) (Entry, error)
	// List returns one page of the folder dir: its direct children, or every
	// descendant when opts.Recursive is set. A missing folder is ErrNotFound;
	// a file is ErrNotDir.
	List(ctx context.Context, dir string, opts ListOptions) (Page, error)
	// Open reads the file at p, or part of it when r is not nil.
	// A folder is ErrIsDir; a range outside the file is ErrRange.
	Open(ctx context.Context, p string, r *Range) (*Object, error)
	// Create starts an upload to p; size is the expected length, or -1 when unknown.
	// The parent folder must exist (ErrNotFound otherwise); a folder at p is ErrIsDir.
	// Options tell what the caller has checked of both.
	Create(ctx context.Context, p string, size int64, opts CreateOptions) (Upload, error)
	// Mkdir creates the folder p. Its parent must exist (ErrNotFound);
	// an existing file or folder at p is ErrExist.
	Mkdir(ctx context.Context, p string) error
	// Copy copies the file src to dst on the server side, replacing any file at dst.
	// Folders are not copied by Copy: the gateway walks them. A folder at src or
	// dst is ErrIsDir; the parent folder of dst must exist (ErrNotFound).
	// Options tell what the caller has checked of src and dst.
	Copy(ctx context.Context, src, dst string, opts CopyOptions) (Entry, error)
	// Delete removes files and folders in batches. A folder is named with a
	// trailing slash ("a/b/") and is removed only when empty (its marker, on
	// object storage). A path that does not exist is not an error. When some
	// paths fail, the error is a *DeleteError naming each of them as given.
	Delete(ctx context.Context, paths []string) error
}

// Mover is implemented by backends that rename files and whole folders
// atomically (a local disk). The gateway uses it for MOVE within one backend
// instead of copying and deleting. A file moved onto an existing file
// replaces it in one step, so a reader sees the old or the new content, never
// neither (CAD programs save by moving a temporary file over the drawing);
// any other move onto an existing path is ErrExist.
type Mover interface {
	Move(ctx context.Context, src, dst string) error
}

// FileStater is implemented by backends where a folder costs more to find
// than a file (S3, whose folders may be implicit): StatFile describes the
// file at p, and is ErrNotFound when there is none, folder or nothing, for
// a caller that needs a file and nothing else.
type FileStater interface {
	StatFile(ctx context.Context, p string) (Entry, error)
}

// Prober is implemented by backends where the file at a path, a folder at
// it and the path's parent folder would cost a request each to find, and
// one request can find them together (S3, one listing). A writer probes
// the path it writes, and tells Create or Copy what it found.
type Prober interface {
	// Probe looks at p: a path that does not exist is no error.
	Probe(ctx context.Context, p string) (Probe, error)
}

// Probe is what one look at a path found.
type Probe struct {
	// File is the file at the path; nil when there is none.
	File *Entry
	// Dir: a folder is at the path (also beside a file of the same name,
	// which object storage allows).
	Dir bool
	// Parent: the path's parent folder was seen to exist, since something
	// is at the path or beside it. False says only that the look did not
	// see it.
	Parent bool
}

// TreeCopier is implemented by backends where Copy's checks cost requests
// that a copy of a whole tree does not need. CopyListed copies the file
// src, as a listing of the source tree gave it, to dst under the same name:
// the caller has made dst's folder for this copy, so no folder can be at
// dst, and the file keeps its type and metadata as they are.
type TreeCopier interface {
	CopyListed(ctx context.Context, src Entry, dst string) (Entry, error)
}

// Pinner is implemented by backends whose tree has folders that exist by
// configuration, such as the Comuni at the root of the namespace: they can be
// neither deleted nor replaced nor moved.
type Pinner interface {
	Pinned(p string) bool
}

// Checker is implemented by backends that can verify, at start-up and for
// readiness, that their storage is reachable and usable.
type Checker interface {
	Check(ctx context.Context) error
}

// DeleteError reports the paths a Delete could not remove.
type DeleteError struct {
	Failed map[string]error
}

func (e *DeleteError) Error() string {
	for p, err := range e.Failed {
		return "delete " + p + ": " + err.Error() + " (and " + strconv.Itoa(len(e.Failed)-1) + " more)"
	}
	return "delete failed"
}

// Span resolves r against a file of the given size into the offset and the
// length of the bytes to read, as HTTP byte ranges do (RFC 9110, 14.1.2): a
// nil range is the whole file, a range reaching past the end is clipped,
// one starting past it is ErrRange, and so is an empty suffix or any suffix
// of an empty file.
func Span(size int64, r *Range) (start, n int64, err error) {
	switch {
	case r == nil:
		return 0, size, nil
	case r.Start < 0:
		if r.Length <= 0 || size == 0 {
			return 0, 0, ErrRange
		}
		n = min(r.Length, size)
		return size - n, n, nil
	case r.Start >= size:
		return 0, 0, ErrRange
	case r.Length < 0 || r.Length > size-r.Start:
		return r.Start, size - r.Start, nil
	default:
		return r.Start, r.Length, nil
	}
}

// Keeper is implemented by backends that can set files aside, out of
// sight, and bring them back: the recycle bin and the previous versions.
// Kept content is named by locators, the backend's own opaque strings
// (valid UTF-8, at most 1,024 bytes), which the caller records and hands
// back. Kept content is invisible to every other call: never listed (not
// even by a recursive listing of the root), unreachable by any path, not
// in any size a listing sums. A locator stays valid until Purge, or
// until a Restore that moved it back (see Restore).
type Keeper interface {
	// Discard removes the file or folder root with everything below it,
	// as Delete would, and keeps every file of it: tree is the recursive
	// listing of a folder root that the caller has just made (nil for a
	// file). It returns the locator of each file kept, by its path as the
	// entries give it. id (1–64 of [A-Za-z0-9_-], unique) names the set
	// in the backend's own layout. On a failure part-way, what was
	// removed is kept and named in the map returned with the error, and
	// what was not is where it was. Cost: a disk, one rename of root; an
	// unversioned bucket, one server-side copy a file and Delete's
	// requests; a versioned bucket, a listing of versions a 1,000 files
	// and Delete's requests, no copy.
	Discard(ctx context.Context, root Entry, tree []Entry, id string) (map[string]string, error)
	// Preserve keeps the content the file e has now, which stays where
	// it is: a write is about to replace it. Cost: a disk, one hard link;
	// an unversioned bucket, one server-side copy; a versioned bucket,
	// one request that learns the current version.
	Preserve(ctx context.Context, e Entry, id string) (string, error)
	// OpenKept reads kept content, or part of it when r is not nil.
	OpenKept(ctx context.Context, loc string, r *Range) (*Object, error)
	// Restore makes the kept content loc the file dst, replacing a file
	// there; dst's parent folder must exist (ErrNotFound), a folder at dst
	// is ErrIsDir. A backend that can moves the content back (a disk:
	// a rename), and loc is then no longer kept; otherwise it copies, and
	// loc stays kept until the caller purges it.
	Restore(ctx context.Context, loc, dst string) (Entry, error)
	// Purge removes kept content for good, releasing its space (on a
	// versioned bucket, the versions themselves). A locator no longer
	// kept is not an error.
	Purge(ctx context.Context, locs []string) error
	// KeepMode names how this backend keeps content, for the log at
	// start: "disk", "bucket versioning", "hidden prefix".
	KeepMode() string
}

// Holder is implemented by backends whose storage can refuse, by itself,
// to delete or overwrite what is held (S3 Object Lock): a closed dossier
// is held so that not even the holder of the bucket's keys can remove it.
type Holder interface {
	// Holdable reports whether the storage holds objects (the bucket has
	// Object Lock enabled), as learned at start.
	Holdable() bool
	// Hold puts (on) or lifts (off) the hold on every version of every
	// object of the folder dir and below, and returns how many it set.
	// On with a zero until is a legal hold, which lasts until lifted; with
	// until, a compliance retention until then, which nobody lifts or
	// shortens, not even the bucket's owner: off leaves it as it is.
	Hold(ctx context.Context, dir string, on bool, until time.Time) (int, error)
}
