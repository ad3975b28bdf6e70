package archive

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
)

// deleteBatch is how many paths one backend Delete call receives; S3's
// DeleteObjects takes at most 1000.
const deleteBatch = 1000

// copyConcurrency is how many file copies of a folder copy or move run at
// once.
const copyConcurrency = 8

// Delete removes the file or the folder at p, with everything below it,
// its dead properties and its locks. A folder that could be removed only
// in part is a *PartialError, and keeps what was not removed.
func (o *Op) Delete(p string) error {
	p, err := Path(p)
	if err != nil {
		return err
	}
	if err := o.Allow(access.Delete, p); err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf("DELETE of the root: %w", ErrForbidden)
	}
	e, err := o.Stat(p)
	if err != nil {
		return err
	}
	if e.IsDir {
		if err := o.Allow(access.DeleteTree, p); err != nil {
			return err
		}
	}
	if err := o.CheckWrite(Target{Path: p, Tree: true, Member: true}); err != nil {
		return err
	}
	return o.discard(e)
}

// Copied is what a copy or move made.
type Copied struct {
	Replaced bool // something was at the destination, and is no more
	IsDir    bool // the source, and so the result, is a folder
}

// Copy copies the file or folder src to dst, with its dead properties; a
// folder with what it holds when infinite, else alone. An existing
// destination is replaced when overwrite, else the copy fails with
// ErrDestinationExists. Of a folder, the copy holds what the person may see.
func (o *Op) Copy(src, dst string, overwrite, infinite bool) (Copied, error) {
	src, dst, err := paths(src, dst)
	if err != nil {
		return Copied{}, err
	}
	if err := o.Allow(access.Copy, src); err != nil {
		return Copied{}, err
	}
	return o.copyMove(src, dst, false, overwrite, infinite)
}

// Move moves the file or folder src to dst, with its dead properties; the
// locks rooted at the source and below it end. Within a backend that
// renames natively it is one rename; otherwise every file is copied on the
// server side and the sources are deleted only once every copy succeeded:
// a failure part-way leaves both copies, never neither.
func (o *Op) Move(src, dst string, overwrite bool) (Copied, error) {
	src, dst, err := paths(src, dst)
	if err != nil {
		return Copied{}, err
	}
	if err := o.Allow(access.Write, src); err != nil {
		return Copied{}, err
	}
	return o.copyMove(src, dst, true, overwrite, true)
}

// paths takes both paths of a copy or move through Path.
func paths(src, dst string) (string, string, error) {
	src, err := Path(src)
	if err != nil {
		return "", "", err
	}
	dst, err = Path(dst)
	return src, dst, err
}

func (o *Op) copyMove(sp, dst string, move, overwrite, infinite bool) (Copied, error) {
	if sp == "/" || dst == "/" {
		return Copied{}, fmt.Errorf("copy or move of the root: %w", ErrForbidden)
	}
	if dst == sp {
		return Copied{}, fmt.Errorf("source and destination are the same: %w", ErrForbidden)
	}
	if err := o.Allow(access.Write, dst); err != nil {
		return Copied{}, err
	}
	if move {
		// A move takes the source out of its folder: both must be writable.
		if err := o.Allow(access.Write, parentOf(sp)); err != nil {
			return Copied{}, err
		}
	}
	// Both ends at once: each lookup is a request that waits on the storage.
	var (
		at    sight
		atErr error
		wg    sync.WaitGroup
	)
	wg.Go(func() { at, atErr = o.look(dst) })
	src, err := o.Stat(sp)
	wg.Wait()
	if err != nil {
		return Copied{}, err
	}
	if isWithin(dst, sp) || (isWithin(sp, dst) && overwrite) {
		return Copied{}, fmt.Errorf("source and destination overlap: %w", ErrForbidden)
	}
	if atErr != nil {
		return Copied{}, atErr
	}
	var de backends.Entry
	switch {
	case at.File != nil:
		de = *at.File
	case at.Dir:
		de = backends.Entry{Path: backendPath(dst), IsDir: true}
	}
	dstExists := at.File != nil || at.Dir
	if dstExists && !overwrite {
		return Copied{}, fmt.Errorf("%s: %w", dst, ErrDestinationExists)
	}
	targets := []Target{{Path: dst, Tree: dstExists, Member: !dstExists}}
	if move {
		targets = append(targets, Target{Path: sp, Tree: true, Member: true})
	}
	if err := o.CheckWrite(targets...); err != nil {
		return Copied{}, err
	}
	// The source is in the folder of the destination, or the look at the
	// destination saw it, or the service did lately; else it is looked up.
	sameFolder := parentOf(dst) == parentOf(sp)
	parentSeen := sameFolder || o.parentKnown(dst, at)
	if !parentSeen {
		pe, err := o.Stat(parentOf(dst))
		if errors.Is(err, backends.ErrNotFound) {
			return Copied{}, fmt.Errorf("destination folder of %s: %w", dst, ErrConflict)
		}
		if err != nil {
			return Copied{}, err
		}
		// A file there is the storage's to refuse.
		parentSeen = pe.IsDir
	}
	// A file replaces a file in one step; anything involving a folder
	// replaces the destination as a whole.
	if dstExists && de.IsDir {
		if err := o.Allow(access.DeleteTree, dst); err != nil {
			return Copied{}, err
		}
	}
	told := backends.CopyOptions{Source: &src, ParentExists: parentSeen, NoDir: at.noDir}
	// What the destination held goes to the recycle bin; a file that a
	// file replaces becomes a version of it.
	replacesFile := dstExists && !de.IsDir && !src.IsDir
	if dstExists && !replacesFile {
		if err := o.discard(de); err != nil {
			return Copied{}, err
		}
		// Nothing is at the destination now; its folder may have gone
		// with it, if nothing but the destination made it one.
		told.NoDir, told.ParentExists = true, sameFolder
	}
	var keep func(written bool)
	if replacesFile {
		if keep, err = o.preserve(de); err != nil {
			return Copied{}, err
		}
	}
	if move {
		err = o.move(src, dst, told)
	} else {
		err = o.copyTree(src, dst, infinite, told)
	}
	if keep != nil {
		keep(err == nil)
	}
	if err == nil {
		o.s.folders.saw(parentOf(dst), o.s.now())
		saved := !src.IsDir && !replacesFile && o.arrived(dst, false)
		if move {
			o.departed(src, dst, !saved)
			o.s.catalogue().Moved(o.ctx, namespacePath(src.Path), dst, src.IsDir, o.by())
		} else {
			o.s.catalogue().Copied(o.ctx, namespacePath(src.Path), dst, src.IsDir, o.by())
		}
	}
	return Copied{Replaced: dstExists, IsDir: src.IsDir}, err
}

// removeTree deletes a file, or a folder with everything below it, with its
// dead properties and locks. Files go first, in batches, then folders from the
// deepest up, so a failure leaves a tree that still holds what was not
// deleted, and a *PartialError that names it.
func (o *Op) removeTree(e backends.Entry) error {
	if pn, ok := o.s.fs.(backends.Pinner); ok && pn.Pinned(e.Path) {
		return fmt.Errorf("remove %q: %w", e.Path, backends.ErrPermission)
	}
	p := namespacePath(e.Path)
	var files, dirs []string
	if e.IsDir {
		for c, err := range backends.All(o.ctx, o.s.fs, e.Path, backends.ListOptions{Recursive: true}) {
			switch {
			case err != nil:
				return err
			case c.IsDir:
				dirs = append(dirs, c.Path+"/")
			default:
				files = append(files, c.Path)
			}
		}
		dirs = append(dirs, e.Path+"/")
	} else {
		files = append(files, e.Path)
	}
	failed := map[string]error{}
	o.deleteBatches(files, failed)
	// Folders come from a listing in byte order: reversed, children precede parents.
	for i, j := 0, len(dirs)-1; i < j; i, j = i+1, j-1 {
		dirs[i], dirs[j] = dirs[j], dirs[i]
	}
	if len(failed) == 0 {
		o.deleteBatches(dirs, failed)
	}
	o.changed(p, true)
	if len(failed) > 0 {
		return &PartialError{Failed: failed}
	}
	if err := o.s.store.DeleteProps(o.ctx, p); err != nil {
		return err
	}
	if err := o.s.store.DeleteDigests(o.ctx, p); err != nil {
		return err
	}
	return o.s.store.DeleteLocks(o.ctx, p)
}

func (o *Op) deleteBatches(paths []string, failed map[string]error) {
	for len(paths) > 0 {
		n := min(len(paths), deleteBatch)
		err := o.s.fs.Delete(o.ctx, paths[:n])
		var de *backends.DeleteError
		switch {
		case errors.As(err, &de):
			for p, ferr := range de.Failed {
				failed[namespacePath(strings.TrimSuffix(p, "/"))] = ferr
			}
		case err != nil:
			for _, p := range paths[:n] {
				failed[namespacePath(strings.TrimSuffix(p, "/"))] = err
			}
		}
		paths = paths[n:]
	}
}

// copyTree copies src to the namespace path dst with its dead properties;
// told is what the caller found of both ends, for the copy of a file.
func (o *Op) copyTree(src backends.Entry, dst string, infinite bool, told backends.CopyOptions) error {
	failed := map[string]error{}
	bdst := backendPath(dst)
	if !src.IsDir {
		e, err := o.s.fs.Copy(o.ctx, src.Path, bdst, told)
		if err != nil {
			return err
		}
		o.carry([]copied{{from: src, to: e}})
	} else {
		if err := o.s.fs.Mkdir(o.ctx, bdst); err != nil && !errors.Is(err, backends.ErrExist) {
			return err
		}
		if infinite {
			if err := o.copyChildren(src.Path, bdst, failed); err != nil {
				return err
			}
		}
	}
	o.changed(dst, true)
	if err := o.s.store.CopyProps(o.ctx, namespacePath(src.Path), dst); err != nil {
		return fmt.Errorf("copy properties: %w", err)
	}
	if len(failed) > 0 {
		return &PartialError{Failed: failed}
	}
	return nil
}

// copyChildren copies what the backend folder src holds, as far as the
// person may see it, into the folder bdst, which exists; failed gets the
// namespace paths that could not be copied. Folders are made in listing
// order, which puts a folder before what it holds; files are copied several
// at once, each a request that waits on the storage.
func (o *Op) copyChildren(src, bdst string, failed map[string]error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		sem   = make(chan struct{}, copyConcurrency)
		files []copied
	)
	// The digests follow what was copied, also when the copy stops part-way.
	defer func() { wg.Wait(); o.carry(files) }()
	fail := func(p string, err error) {
		mu.Lock()
		failed[namespacePath(p)] = err
		mu.Unlock()
	}
	for c, err := range backends.All(o.ctx, o.s.fs, src, backends.ListOptions{Recursive: true}) {
		if err != nil {
			return err
		}
		if !o.Visible(namespacePath(c.Path)) {
			// A copy holds only what its author may see.
			continue
		}
		to := bdst + strings.TrimPrefix(c.Path, src)
		if c.IsDir {
			if err := o.s.fs.Mkdir(o.ctx, to); err != nil && !errors.Is(err, backends.ErrExist) {
				fail(c.Path, err)
			}
			if err := o.ctx.Err(); err != nil {
				return err
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-o.ctx.Done():
			return o.ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			e, err := o.copyListed(c, to)
			if err != nil {
				fail(c.Path, err)
				return
			}
			mu.Lock()
			files = append(files, copied{from: c, to: e})
			mu.Unlock()
		}()
	}
	return nil
}

// copyListed copies a file of a tree being copied, into the copy's own
// folder: without Copy's checks where the storage can.
func (o *Op) copyListed(src backends.Entry, to string) (backends.Entry, error) {
	if tc, ok := o.s.fs.(backends.TreeCopier); ok {
		return tc.CopyListed(o.ctx, src, to)
	}
	// The caller made the folder of the copy: nothing else is there.
	return o.s.fs.Copy(o.ctx, src.Path, to, backends.CopyOptions{Source: &src, ParentExists: true, NoDir: true})
}

// move moves src to the namespace path dst, with its dead properties; the
// locks rooted at the source and below it end. told is for the copy of a
// file, where the storage cannot rename.
func (o *Op) move(src backends.Entry, dst string, told backends.CopyOptions) error {
	sp := namespacePath(src.Path)
	if m, ok := o.s.fs.(backends.Mover); ok {
		err := m.Move(o.ctx, src.Path, backendPath(dst))
		if err == nil {
			o.changed(sp, true)
			o.changed(dst, true)
			if err := o.s.store.MoveProps(o.ctx, sp, dst); err != nil {
				return fmt.Errorf("move properties: %w", err)
			}
			// A rename keeps each file's ETag, which the digests are bound to.
			if err := o.s.store.MoveDigests(o.ctx, sp, dst); err != nil {
				return fmt.Errorf("move digests: %w", err)
			}
			return o.s.store.DeleteLocks(o.ctx, sp)
		}
		if !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
	}
	if err := o.copyTree(src, dst, true, told); err != nil {
		return err
	}
	return o.removeTree(src)
}
