package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/bassareggiana/faldone/backends"
)

// Kept content lives in backends.KeepFolder, a hidden folder in the root on
// the same file system, so that setting a file aside is a rename or a hard
// link and never a copy: a set named id holds, under KeepFolder/<id>/, the
// discarded file or folder under its own name, or the preserved file. A
// locator is the path of a kept file relative to the root
// (".faldone-cestino/<id>/tavola.dwg", ".faldone-cestino/<id>/PC-0042/a/b.pdf").

var _ backends.Keeper = (*Backend)(nil)

// KeepMode is "disk".
func (b *Backend) KeepMode() string { return "disk" }

// Discard moves root into the kept folder with one rename (after a MkdirAll
// of the set's folder). Every file of tree is named in the map by the
// locator it has in there; files written into the folder since the caller
// listed it move along, unnamed.
func (b *Backend) Discard(ctx context.Context, root backends.Entry, tree []backends.Entry, id string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkTarget(root.Path); err != nil {
		return nil, err
	}
	if err := backends.CheckKeepID(id); err != nil {
		return nil, err
	}
	info, err := b.lstat(root.Path)
	if err != nil {
		return nil, err
	}
	if info.IsDir() != root.IsDir {
		return nil, &fs.PathError{Op: "discard", Path: root.Path, Err: fmt.Errorf("no longer a %s: %w", kind(root.IsDir), backends.ErrNotFound)}
	}
	set := path.Join(backends.KeepFolder, id)
	if err := b.root.MkdirAll(set, 0o777); err != nil {
		return nil, b.mapErr(err)
	}
	kept := path.Join(set, path.Base(root.Path))
	if _, err := b.root.Lstat(kept); err == nil {
		return nil, &fs.PathError{Op: "discard", Path: root.Path, Err: fmt.Errorf("set %q holds %s already: %w", id, path.Base(root.Path), backends.ErrExist)}
	}
	if err := b.root.Rename(root.Path, kept); err != nil {
		return nil, b.mapErr(err)
	}
	locs := map[string]string{}
	if !root.IsDir {
		locs[root.Path] = kept
	}
	for _, e := range tree {
		if rel, ok := strings.CutPrefix(e.Path, root.Path+"/"); ok && !e.IsDir {
			locs[e.Path] = kept + "/" + rel
		}
	}
	err = b.syncDir(set)
	if err == nil {
		err = b.syncDir(path.Dir(root.Path))
	}
	return locs, err
}

func kind(dir bool) string {
	if dir {
		return "folder"
	}
	return "file"
}

// Preserve keeps the file e as it is now with one hard link into the kept
// folder, or a copy where the file system refuses links. It fails with
// ErrNotFound when the file is no longer the one e describes.
func (b *Backend) Preserve(ctx context.Context, e backends.Entry, id string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := checkTarget(e.Path); err != nil {
		return "", err
	}
	if err := backends.CheckKeepID(id); err != nil {
		return "", err
	}
	info, err := b.lstat(e.Path)
	if err != nil {
		return "", err
	}
	if info.IsDir() {
		return "", &fs.PathError{Op: "preserve", Path: e.Path, Err: backends.ErrIsDir}
	}
	if e.ETag != "" && etag(info) != e.ETag {
		return "", &fs.PathError{Op: "preserve", Path: e.Path, Err: fmt.Errorf("changed since it was described: %w", backends.ErrNotFound)}
	}
	set := path.Join(backends.KeepFolder, id)
	if err := b.root.MkdirAll(set, 0o777); err != nil {
		return "", b.mapErr(err)
	}
	kept := path.Join(set, path.Base(e.Path))
	linked := true
	err = b.root.Link(e.Path, kept)
	if err != nil && refusesLinks(err) {
		linked = false
		err = b.copyKept(ctx, e.Path, kept)
	}
	if err != nil {
		return "", b.mapErr(err)
	}
	// A write may have replaced the file between the look and the link.
	got, err := b.root.Lstat(kept)
	if err != nil || !(linked && os.SameFile(got, info) || !linked && sameCopy(got, info)) {
		b.root.Remove(kept)
		return "", &fs.PathError{Op: "preserve", Path: e.Path, Err: fmt.Errorf("changed while it was kept: %w", backends.ErrNotFound)}
	}
	return kept, b.syncDir(set)
}

// sameCopy reports whether kept, a copy, has the size and the time of the
// original.
func sameCopy(kept, orig fs.FileInfo) bool {
	return kept.Size() == orig.Size() && kept.ModTime().Equal(orig.ModTime())
}

// refusesLinks reports whether err is a file system's refusal of hard links.
func refusesLinks(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EMLINK) ||
		errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS)
}

// copyKept copies the file src to the kept path dst, through a temporary
// file, keeping its modification time so that the copy says when its
// content was written.
func (b *Backend) copyKept(ctx context.Context, src, dst string) error {
	in, err := b.root.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	tmp := path.Join(path.Dir(dst), tmpPrefix+"keep-"+path.Base(dst))
	out, err := b.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	u := &upload{b: b, path: dst, tmp: tmp, size: -1, f: out}
	if err := u.readFrom(ctx, in); err != nil {
		u.abort()
		return err
	}
	err = out.Sync()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = b.root.Chtimes(tmp, info.ModTime(), info.ModTime())
	}
	if err == nil {
		err = b.root.Rename(tmp, dst)
	}
	if err != nil {
		b.root.Remove(tmp)
	}
	return err
}

// checkKept refuses a locator that is not the path of a file in a set of
// the kept folder.
func checkKept(loc string) error {
	if err := checkPath(loc); err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(loc, backends.KeepFolder+"/")
	id, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || name == "" || backends.CheckKeepID(id) != nil || strings.Contains(loc, "/"+tmpPrefix) {
		return fmt.Errorf("locator %q: %w", loc, backends.ErrInvalidPath)
	}
	return nil
}

// OpenKept reads the kept file loc, as Open reads a file.
func (b *Backend) OpenKept(ctx context.Context, loc string, r *backends.Range) (*backends.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkKept(loc); err != nil {
		return nil, err
	}
	f, err := b.root.Open(loc)
	if err != nil {
		return nil, b.mapErr(err)
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = &fs.PathError{Op: "open", Path: loc, Err: backends.ErrNotFound}
	}
	if err != nil {
		f.Close()
		return nil, b.mapErr(err)
	}
	return object(f, info, loc, r)
}

// Restore renames the kept file loc to dst, replacing a file there, and
// removes the folders of the set that this leaves empty: loc is then no
// longer kept.
func (b *Backend) Restore(ctx context.Context, loc, dst string) (backends.Entry, error) {
	if err := ctx.Err(); err != nil {
		return backends.Entry{}, err
	}
	if err := checkKept(loc); err != nil {
		return backends.Entry{}, err
	}
	if err := checkTarget(dst); err != nil {
		return backends.Entry{}, err
	}
	switch info, err := b.lstat(dst); {
	case err == nil && info.IsDir():
		return backends.Entry{}, &fs.PathError{Op: "restore", Path: dst, Err: backends.ErrIsDir}
	case err != nil && !errors.Is(err, backends.ErrNotFound):
		return backends.Entry{}, err
	}
	if dir := parentDir(dst); dir != "" {
		switch info, err := b.lstat(dir); {
		case err == nil && !info.IsDir():
			return backends.Entry{}, &fs.PathError{Op: "restore", Path: dst, Err: fmt.Errorf("parent is a file: %w", backends.ErrNotFound)}
		case err != nil:
			return backends.Entry{}, err
		}
	}
	info, err := b.root.Lstat(loc)
	if err != nil {
		return backends.Entry{}, b.mapErr(err)
	}
	if !info.Mode().IsRegular() {
		return backends.Entry{}, &fs.PathError{Op: "restore", Path: loc, Err: backends.ErrNotFound}
	}
	if err := b.root.Rename(loc, dst); err != nil {
		return backends.Entry{}, b.mapErr(err)
	}
	if err := b.syncDir(path.Dir(dst)); err != nil {
		return backends.Entry{}, err
	}
	b.removeEmptyParents(loc)
	return entry(dst, info), nil
}

// parentDir is the folder of p, "" for the root.
func parentDir(p string) string {
	if d := path.Dir(p); d != "." {
		return d
	}
	return ""
}

// removeEmptyParents removes, best-effort, the folders between the kept
// path loc and the kept folder that are empty, innermost first.
func (b *Backend) removeEmptyParents(loc string) {
	for d := path.Dir(loc); d != backends.KeepFolder && d != "."; d = path.Dir(d) {
		if b.root.Remove(d) != nil {
			return
		}
	}
}

// Purge removes the kept files, then the folders of their sets that hold
// no file any more. A locator already gone is no error.
func (b *Backend) Purge(ctx context.Context, locs []string) error {
	sets := map[string]bool{}
	var errs []error
	for _, loc := range locs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := checkKept(loc); err != nil {
			errs = append(errs, err)
			continue
		}
		if info, err := b.root.Lstat(loc); err == nil && info.IsDir() {
			errs = append(errs, &fs.PathError{Op: "purge", Path: loc, Err: backends.ErrIsDir})
			continue
		}
		if err := b.root.Remove(loc); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			errs = append(errs, b.mapErr(err))
			continue
		}
		rest := strings.TrimPrefix(loc, backends.KeepFolder+"/")
		id, _, _ := strings.Cut(rest, "/")
		sets[path.Join(backends.KeepFolder, id)] = true
	}
	for set := range sets {
		b.pruneEmpty(set)
	}
	return errors.Join(errs...)
}

// pruneEmpty removes dir and the folders under it that hold no file,
// best-effort, and reports whether dir is gone.
func (b *Backend) pruneEmpty(dir string) bool {
	f, err := b.root.Open(dir)
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	des, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return false
	}
	empty := true
	for _, de := range des {
		if !de.IsDir() || !b.pruneEmpty(dir+"/"+de.Name()) {
			empty = false
		}
	}
	return empty && b.root.Remove(dir) == nil
}
