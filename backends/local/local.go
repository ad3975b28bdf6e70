// Package local implements [backends.Backend] over a directory of the local disk.
//
// Every operation goes through an [os.Root], so no path and no symbolic link
// reaches outside the directory. Symbolic links are not part of the archive:
// listings skip them and Stat and Open report them as not found; a link in the
// middle of a path is followed only while it stays inside the root.
//
// An upload is written to a hidden temporary file next to its target, named
// ".faldone-upload-…", and renamed over the target on commit between an fsync
// of the file and one of its folder. Readers see the old content or the new,
// never a mix, and a crash leaves at worst a temporary file, which listings
// hide and which can be removed at leisure.
package local

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/bassareggiana/faldone/backends"
)

// tmpPrefix starts the names of uploads in progress. Every operation treats
// such names as absent, so they can never be read, listed, replaced or deleted
// through the backend; so is the folder of kept content, backends.KeepFolder
// in the root (see hidden and keep.go).
const tmpPrefix = ".faldone-upload-"

// Backend stores files in a directory.
type Backend struct {
	dir  string // absolute path of the directory, to tell whether it was replaced
	root *os.Root
	// escapes is the error os.Root returns for a path that would leave the
	// root through a symbolic link; os does not export it.
	escapes error
}

var (
	_ backends.Backend = (*Backend)(nil)
	_ backends.Mover   = (*Backend)(nil)
	_ backends.Checker = (*Backend)(nil)
)

// New returns a backend storing its files in the existing directory dir.
func New(dir string) (*Backend, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	// ".." leaves every root, so it yields the error to recognise.
	_, err = root.Lstat("..")
	return &Backend{dir: abs, root: root, escapes: errors.Unwrap(err)}, nil
}

// Close releases the directory. The backend must not be used afterwards.
func (b *Backend) Close() error {
	return b.root.Close()
}

// Stat describes the file or folder at p.
func (b *Backend) Stat(ctx context.Context, p string) (backends.Entry, error) {
	if err := ctx.Err(); err != nil {
		return backends.Entry{}, err
	}
	info, err := b.lstat(p)
	if err != nil {
		return backends.Entry{}, err
	}
	return entry(p, info), nil
}

// Open reads the file at p, or the part of it that r selects.
func (b *Backend) Open(ctx context.Context, p string, r *backends.Range) (*backends.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, info, err := b.openFile("open", p)
	if err != nil {
		return nil, err
	}
	return object(f, info, p, r)
}

// object is the open file f, at p, or the part of it r selects; f is
// closed when r is outside it.
func object(f *os.File, info fs.FileInfo, p string, r *backends.Range) (*backends.Object, error) {
	start, n, err := backends.Span(info.Size(), r)
	if err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return &backends.Object{
		Entry:  entry(p, info),
		Body:   readCloser{io.NewSectionReader(f, start, n), f},
		Start:  start,
		Length: n,
	}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Create starts an upload to p in a temporary file next to it. Its checks
// cost a system call each: it makes them whatever opts tell.
func (b *Backend) Create(ctx context.Context, p string, size int64, _ backends.CreateOptions) (backends.Upload, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.create(p, size)
}

func (b *Backend) create(p string, size int64) (*upload, error) {
	if err := checkTarget(p); err != nil {
		return nil, err
	}
	switch info, err := b.lstat(p); {
	case err == nil && info.IsDir():
		return nil, &fs.PathError{Op: "create", Path: p, Err: backends.ErrIsDir}
	case err != nil && !errors.Is(err, backends.ErrNotFound):
		return nil, err
	}
	// The parent's absence or nature shows here, as ErrNotFound or ErrNotDir.
	tmp := path.Join(path.Dir(p), tmpPrefix+rand.Text())
	f, err := b.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, b.mapErr(err)
	}
	return &upload{b: b, path: p, tmp: tmp, size: size, f: f}, nil
}

// Mkdir creates the folder p.
func (b *Backend) Mkdir(ctx context.Context, p string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p == "" {
		return &fs.PathError{Op: "mkdir", Path: p, Err: backends.ErrExist}
	}
	if err := checkTarget(p); err != nil {
		return err
	}
	if err := b.root.Mkdir(p, 0o777); err != nil {
		return b.mapErr(err)
	}
	// Without this a crash could lose the folder with the files committed in it.
	return b.syncDir(path.Dir(p))
}

// Copy copies the file src to dst as an upload would: dst changes at once,
// and only once the copy is complete. As Create, it checks whatever opts
// tell: opening the source tells what it is at no cost.
func (b *Backend) Copy(ctx context.Context, src, dst string, _ backends.CopyOptions) (backends.Entry, error) {
	if err := ctx.Err(); err != nil {
		return backends.Entry{}, err
	}
	in, info, err := b.openFile("copy", src)
	if err != nil {
		return backends.Entry{}, err
	}
	defer in.Close()
	u, err := b.create(dst, info.Size())
	if err != nil {
		return backends.Entry{}, err
	}
	if err := u.readFrom(ctx, in); err != nil {
		u.Abort(ctx)
		return backends.Entry{}, err
	}
	return u.Commit(ctx)
}

// Delete removes files and empty folders. Files go first and folders deepest
// first, so that a batch naming a folder and everything in it removes them all.
func (b *Backend) Delete(ctx context.Context, paths []string) error {
	order := slices.Clone(paths)
	slices.SortStableFunc(order, func(x, y string) int {
		xdir, ydir := strings.HasSuffix(x, "/"), strings.HasSuffix(y, "/")
		switch {
		case xdir && ydir:
			return cmp.Compare(len(y), len(x)) // descendants have longer paths
		case xdir:
			return 1
		case ydir:
			return -1
		}
		return 0
	})
	failed := make(map[string]error)
	for _, p := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.remove(p); err != nil {
			failed[p] = err
		}
	}
	if len(failed) > 0 {
		return &backends.DeleteError{Failed: failed}
	}
	return nil
}

// remove deletes one file, or one empty folder when p ends with a slash.
func (b *Backend) remove(p string) error {
	name, isDir := strings.CutSuffix(p, "/")
	if name == "" {
		return fmt.Errorf("%q: %w", p, backends.ErrInvalidPath)
	}
	info, err := b.lstat(name)
	switch {
	case errors.Is(err, backends.ErrNotFound):
		return nil
	case err != nil:
		return err
	case isDir && !info.IsDir():
		return &fs.PathError{Op: "delete", Path: p, Err: backends.ErrNotDir}
	case !isDir && info.IsDir():
		return &fs.PathError{Op: "delete", Path: p, Err: backends.ErrIsDir}
	}
	// A non-empty folder fails here with ErrExist, which is how os reports it.
	if err := b.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return b.mapErr(err)
	}
	return nil
}

// Move renames the file or folder src to dst, which must not exist.
// Another writer creating dst at the same moment may be replaced by src.
func (b *Backend) Move(ctx context.Context, src, dst string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if src == "" {
		return fmt.Errorf("move of the root: %w", backends.ErrInvalidPath)
	}
	se, err := b.lstat(src)
	if err != nil {
		return err
	}
	if err := checkTarget(dst); err != nil {
		return err
	}
	if strings.HasPrefix(dst, src+"/") {
		return &fs.PathError{Op: "move", Path: dst, Err: fmt.Errorf("into %s itself: %w", src, backends.ErrInvalidPath)}
	}
	// rename(2) replaces a file, and an empty folder: only the first is wanted.
	switch di, err := b.root.Lstat(dst); {
	case err == nil && !(se.Mode().IsRegular() && di.Mode().IsRegular()):
		return &fs.PathError{Op: "move", Path: dst, Err: backends.ErrExist}
	case err == nil:
	case !errors.Is(err, fs.ErrNotExist):
		return b.mapErr(err)
	}
	if err := b.root.Rename(src, dst); err != nil {
		return b.mapErr(err)
	}
	if err := b.syncDir(path.Dir(dst)); err != nil {
		return err
	}
	if path.Dir(src) != path.Dir(dst) {
		return b.syncDir(path.Dir(src))
	}
	return nil
}

// Check verifies that the directory is still the one opened and that a file
// can be written in it.
func (b *Backend) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	opened, err := b.root.Stat(".")
	if err != nil {
		return fmt.Errorf("%w: %w", backends.ErrUnavailable, err)
	}
	// A directory removed, or hidden by an unmount, stays open and usable
	// through the root while the path shows something else.
	current, err := os.Stat(b.dir)
	if err != nil {
		return fmt.Errorf("%w: %w", backends.ErrUnavailable, err)
	}
	if !os.SameFile(opened, current) {
		return fmt.Errorf("%w: %s was replaced since it was opened", backends.ErrUnavailable, b.dir)
	}
	name := tmpPrefix + "check-" + rand.Text()
	f, err := b.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return b.mapErr(err)
	}
	_, err = f.Write([]byte{0}) // a full disk may still allow creating a file
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := b.root.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return b.mapErr(err)
	}
	return nil
}

// lstat describes the file or folder at p without following a final symbolic
// link. Temporary uploads, symbolic links, special files and paths through a
// file are ErrNotFound: none of them is part of the archive.
func (b *Backend) lstat(p string) (fs.FileInfo, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	if hidden(p) {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: backends.ErrNotFound}
	}
	info, err := b.root.Lstat(osName(p))
	if err != nil {
		err = b.mapErr(err)
		if errors.Is(err, backends.ErrNotDir) {
			return nil, &fs.PathError{Op: "stat", Path: p, Err: backends.ErrNotFound}
		}
		return nil, err
	}
	if !info.Mode().IsRegular() && !info.IsDir() {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: backends.ErrNotFound}
	}
	return info, nil
}

// openFile opens the regular file at p for reading and describes it.
func (b *Backend) openFile(op, p string) (*os.File, fs.FileInfo, error) {
	info, err := b.lstat(p)
	if err != nil {
		return nil, nil, err
	}
	if info.IsDir() {
		return nil, nil, &fs.PathError{Op: op, Path: p, Err: backends.ErrIsDir}
	}
	// A symbolic link swapped in since lstat would be followed, but only
	// inside the root; what matters is that the file opened is a file.
	f, err := b.root.Open(p)
	if err != nil {
		return nil, nil, b.mapErr(err)
	}
	info, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, b.mapErr(err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, &fs.PathError{Op: op, Path: p, Err: backends.ErrIsDir}
	}
	return f, info, nil
}

// entry describes the file or folder at p from its FileInfo.
func entry(p string, info fs.FileInfo) backends.Entry {
	if info.IsDir() {
		return backends.Entry{Path: p, IsDir: true, ModTime: info.ModTime()}
	}
	return backends.Entry{
		Path:        p,
		Size:        info.Size(),
		ETag:        etag(info),
		ModTime:     info.ModTime(),
		ContentType: backends.ContentType(p),
	}
}

// etag identifies a version of a file without reading it. Every write
// replaces the file with a new one, which gets a new modification time and,
// since the old file still exists while the new one is created, a different
// inode number: the ETag changes even within one tick of a coarse clock.
func etag(info fs.FileInfo) string {
	return strconv.FormatInt(info.Size(), 16) + "-" +
		strconv.FormatUint(uint64(info.ModTime().UnixNano()), 16) + "-" +
		strconv.FormatUint(fileID(info), 16)
}

// mapErr wraps an error of the os package with the backends error it means.
func (b *Backend) mapErr(err error) error {
	var sentinel error
	switch {
	case errors.Is(err, b.escapes):
		sentinel = backends.ErrNotFound // a symbolic link out of the root is as good as absent
	case errors.Is(err, fs.ErrNotExist):
		sentinel = backends.ErrNotFound
	case errors.Is(err, fs.ErrExist): // also a folder that is not empty
		sentinel = backends.ErrExist
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		sentinel = backends.ErrAccessDenied
	case errors.Is(err, syscall.ENOTDIR):
		sentinel = backends.ErrNotDir
	case errors.Is(err, syscall.EISDIR):
		sentinel = backends.ErrIsDir
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EFBIG):
		sentinel = backends.ErrTooLarge
	case errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.EILSEQ):
		sentinel = backends.ErrInvalidPath // names the file system cannot hold
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.ESTALE), errors.Is(err, syscall.ENODEV):
		sentinel = backends.ErrUnavailable
	default:
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// checkPath is backends.CheckPath, and refuses backslashes too, which some
// systems read as separators.
func checkPath(p string) error {
	if strings.ContainsRune(p, '\\') {
		return fmt.Errorf("%q: %w", p, backends.ErrInvalidPath)
	}
	return backends.CheckPath(p)
}

// checkTarget refuses a path that cannot be written: an invalid one, the
// root, or a hidden one (see hidden).
func checkTarget(p string) error {
	if err := checkPath(p); err != nil {
		return err
	}
	if p == "" || hidden(p) {
		return fmt.Errorf("%q: %w", p, backends.ErrInvalidPath)
	}
	return nil
}

// hidden reports whether p goes through an upload in progress, or is the
// folder of kept content (backends.KeepFolder) or under it: the one rule by
// which every operation and every listing treats such names as absent.
func hidden(p string) bool {
	return strings.HasPrefix(p, tmpPrefix) || strings.Contains(p, "/"+tmpPrefix) || backends.InKeepFolder(p)
}

// osName is the name of p for os.Root, which calls the root ".".
func osName(p string) string {
	if p == "" {
		return "."
	}
	return p
}
