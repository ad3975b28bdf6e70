package state

import (
	"context"
	"errors"
	"time"
)

// Digest is the SHA-256 of a file's content (its impronta), recorded with
// the size and the storage's ETag of the version it was computed from. A
// file changed in the storage by another tool has another ETag (or size):
// its digest no longer describes it, and the archive treats it as having
// none until it is verified again.
type Digest struct {
	Path     string // namespace path of the file
	SHA256   [32]byte
	Size     int64
	ETag     string // the storage's, unquoted, as backends.Entry has it
	Recorded time.Time
}

// DigestStore keeps the digests of files. Paths are namespace paths, as
// for properties; a tree is a path and every path below it.
type DigestStore interface {
	// PutDigests records digests, each replacing the one of its path, in
	// one transaction.
	PutDigests(ctx context.Context, ds []Digest) error
	// DigestsOf returns, in one query, the digests recorded for those of
	// paths that have one (a listing's page of at most a few thousand).
	DigestsOf(ctx context.Context, paths []string) (map[string]Digest, error)
	// TreeDigests calls fn with each digest of the tree at p, in byte
	// order of path, streaming (a Comune's tree may hold millions), and
	// returns fn's first error as it is.
	TreeDigests(ctx context.Context, p string, fn func(Digest) error) error
	// MoveDigests moves the digests of the tree at src to the tree at dst,
	// replacing those there, in one transaction; ETags are kept (a rename
	// in the storage keeps them).
	MoveDigests(ctx context.Context, src, dst string) error
	// DeleteDigests removes the digests of the tree at p.
	DeleteDigests(ctx context.Context, p string) error
}

// Check refuses a digest no store may hold, so that the stores agree on
// which digests can exist: an empty path is no file's, a zero Recorded has
// no unix time, and a path or ETag that is not valid text (UTF-8 without
// NUL) cannot be kept in PostgreSQL's text.
func (d Digest) Check() error {
	switch {
	case d.Path == "":
		return errors.New("the path must be set")
	case !IsValidText(d.Path):
		return errors.New("the path is not valid UTF-8 or holds a NUL")
	case !IsValidText(d.ETag):
		return errors.New("the ETag is not valid UTF-8 or holds a NUL")
	case d.Size < 0:
		return errors.New("the size is negative")
	case d.Recorded.IsZero():
		return errors.New("Recorded must be set")
	}
	return nil
}
