package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"

	"github.com/bassareggiana/faldone/backends"
)

// upload writes to a temporary file in the target's folder, so that the
// rename on commit stays within one file system and is atomic.
type upload struct {
	b    *Backend
	path string // the target
	tmp  string // the temporary file
	size int64  // the expected size, or -1

	mu sync.Mutex
	f  *os.File // nil once committed or aborted
	n  int64    // bytes written
}

func (u *upload) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.f == nil {
		return 0, &fs.PathError{Op: "write", Path: u.path, Err: backends.ErrUploadFinished}
	}
	n, err := u.f.Write(p)
	u.n += int64(n)
	if err != nil {
		return n, u.b.mapErr(err)
	}
	return n, nil
}

// copyChunk is how much readFrom copies between checks of its context.
const copyChunk = 64 << 20

// readFrom writes all of r. It copies in chunks so that a cancelled request
// stops a large copy; each chunk can still go through copy_file_range.
func (u *upload) readFrom(ctx context.Context, r io.Reader) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.CopyN(u.f, r, copyChunk)
		u.n += n
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return u.b.mapErr(err)
		}
	}
}

// Commit syncs the temporary file and renames it over the target. A failure
// before the rename leaves the target untouched; a failure to sync the
// folder after it is reported although the new content is already visible.
func (u *upload) Commit(ctx context.Context) (backends.Entry, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.f == nil {
		return backends.Entry{}, &fs.PathError{Op: "commit", Path: u.path, Err: backends.ErrUploadFinished}
	}
	if err := ctx.Err(); err != nil {
		u.abort()
		return backends.Entry{}, err
	}
	if u.size >= 0 && u.n != u.size {
		u.abort()
		return backends.Entry{}, &fs.PathError{Op: "commit", Path: u.path,
			Err: fmt.Errorf("%d bytes written, %d expected: %w", u.n, u.size, backends.ErrIncomplete)}
	}
	f := u.f
	u.f = nil
	err := f.Sync()
	var info fs.FileInfo
	if err == nil {
		// The rename keeps size, modification time and inode: the entry
		// describes the file as Stat will.
		info, err = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = u.b.root.Rename(u.tmp, u.path)
	}
	if err != nil {
		u.b.root.Remove(u.tmp)
		return backends.Entry{}, u.b.mapErr(err)
	}
	if err := u.b.syncDir(path.Dir(u.path)); err != nil {
		return backends.Entry{}, err
	}
	return entry(u.path, info), nil
}

// Abort removes the temporary file. It ignores ctx: it runs when a request has
// failed, often because its context was cancelled, and must clean up anyway.
func (u *upload) Abort(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.abort()
}

func (u *upload) abort() error {
	if u.f == nil {
		return nil
	}
	u.f.Close()
	u.f = nil
	if err := u.b.root.Remove(u.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return u.b.mapErr(err)
	}
	return nil
}
