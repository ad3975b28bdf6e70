package dav

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
)

// deleteBatch is how many paths one backend Delete call receives; S3's
// DeleteObjects takes at most 1000.
const deleteBatch = 1000

// copyConcurrency is how many file copies of a folder COPY or MOVE run at
// once.
const copyConcurrency = 8

func (rq *request) mkcol() error {
	if rq.r.ContentLength > 0 || rq.r.Header.Get("Transfer-Encoding") != "" {
		return newStatus(http.StatusUnsupportedMediaType, "MKCOL with a body")
	}
	if _, err := rq.stat(rq.path); err == nil {
		return newStatus(http.StatusMethodNotAllowed, "MKCOL on an existing resource")
	} else if !errors.Is(err, backends.ErrNotFound) {
		return err
	}
	if err := rq.checkWrite(target{path: rq.path, member: true}); err != nil {
		return err
	}
	err := rq.fs.Mkdir(rq.ctx, backendPath(rq.path))
	if errors.Is(err, backends.ErrNotFound) || errors.Is(err, backends.ErrNotDir) {
		return &statusError{code: http.StatusConflict, err: err}
	}
	if err != nil {
		return err
	}
	rq.w.Header().Set("Location", href(rq.path, true))
	rq.w.WriteHeader(http.StatusCreated)
	return nil
}

func (rq *request) delete() error {
	if d := rq.r.Header.Get("Depth"); d != "" && !strings.EqualFold(d, "infinity") {
		return newStatus(http.StatusBadRequest, "DELETE with a finite Depth")
	}
	if rq.path == "/" {
		return newStatus(http.StatusForbidden, "DELETE of the root")
	}
	e, err := rq.stat(rq.path)
	if err != nil {
		return err
	}
	if e.IsDir {
		if err := rq.allow(access.DeleteTree, rq.path); err != nil {
			return err
		}
	}
	if err := rq.checkWrite(target{path: rq.path, tree: true, member: true}); err != nil {
		return err
	}
	failed, err := rq.removeTree(e)
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return rq.multiFailure(failed)
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeTree deletes a file, or a folder with everything below it, with its
// dead properties and locks. Files go first, in batches, then folders from the
// deepest up, so a failure leaves a tree that still holds what was not deleted.
// It returns the namespace paths it could not delete.
func (rq *request) removeTree(e backends.Entry) (map[string]error, error) {
	if pn, ok := rq.fs.(backends.Pinner); ok && pn.Pinned(e.Path) {
		return nil, fmt.Errorf("remove %q: %w", e.Path, backends.ErrPermission)
	}
	p := namespacePath(e.Path)
	var files, dirs []string
	if e.IsDir {
		for c, err := range backends.All(rq.ctx, rq.fs, e.Path, backends.ListOptions{Recursive: true}) {
			switch {
			case err != nil:
				return nil, err
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
	rq.deleteBatches(files, failed)
	// Folders come from a listing in byte order: reversed, children precede parents.
	for i, j := 0, len(dirs)-1; i < j; i, j = i+1, j-1 {
		dirs[i], dirs[j] = dirs[j], dirs[i]
	}
	if len(failed) == 0 {
		rq.deleteBatches(dirs, failed)
	}
	rq.forget()
	if len(failed) == 0 {
		if err := rq.store.DeleteProps(rq.ctx, p); err != nil {
			return nil, err
		}
		if err := rq.store.DeleteLocks(rq.ctx, p); err != nil {
			return nil, err
		}
	}
	return failed, nil
}

func (rq *request) deleteBatches(paths []string, failed map[string]error) {
	for len(paths) > 0 {
		n := min(len(paths), deleteBatch)
		err := rq.fs.Delete(rq.ctx, paths[:n])
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

// multiFailure answers 207 with the status of each resource that failed.
func (rq *request) multiFailure(failed map[string]error) error {
	for p, err := range failed {
		rq.log.Error("resource failed", "method", rq.r.Method, "path", p, "user", rq.user, "err", err)
	}
	m := newMSWriter(rq.w)
	for p, err := range failed {
		m.statusResponse(href(p, false), statusOf(err), "")
	}
	return m.close()
}

// destination parses the Destination header into a namespace path.
func (rq *request) destination() (string, error) {
	d := rq.r.Header.Get("Destination")
	if d == "" {
		return "", newStatus(http.StatusBadRequest, "missing Destination")
	}
	u, err := url.Parse(d)
	if err != nil {
		return "", newStatus(http.StatusBadRequest, "bad Destination")
	}
	if u.Host != "" && !rq.localHost(u.Host) {
		return "", newStatus(http.StatusBadGateway, "Destination on another server")
	}
	p, _, err := cleanPath(u.EscapedPath())
	if err != nil {
		return "", err
	}
	return p, nil
}

// copyMove serves COPY and MOVE. Within a backend that renames natively a MOVE
// is one rename; otherwise every file is copied on the server side and, for a
// MOVE, the sources are deleted only once every copy succeeded: a failure
// part-way leaves both copies, never neither.
func (rq *request) copyMove() error {
	move := rq.r.Method == "MOVE"
	dst, err := rq.destination()
	if err != nil {
		return err
	}
	overwrite := true
	switch strings.ToUpper(strings.TrimSpace(rq.r.Header.Get("Overwrite"))) {
	case "", "T":
	case "F":
		overwrite = false
	default:
		return newStatus(http.StatusBadRequest, "bad Overwrite header")
	}
	depthInfinite := true
	switch strings.ToLower(rq.r.Header.Get("Depth")) {
	case "", "infinity":
	case "0":
		if move {
			return newStatus(http.StatusBadRequest, "MOVE with Depth 0")
		}
		depthInfinite = false
	default:
		return newStatus(http.StatusBadRequest, "bad Depth header")
	}
	if rq.path == "/" || dst == "/" {
		return newStatus(http.StatusForbidden, "COPY or MOVE of the root")
	}
	if dst == rq.path {
		return newStatus(http.StatusForbidden, "source and destination are the same")
	}
	if err := rq.allow(access.Write, dst); err != nil {
		return err
	}
	if move {
		// A move takes the source out of its folder: both must be writable.
		if err := rq.allow(access.Write, rq.path); err != nil {
			return err
		}
		if err := rq.allow(access.Write, parentOf(rq.path)); err != nil {
			return err
		}
	}
	src, err := rq.stat(rq.path)
	if err != nil {
		return err
	}
	if isWithin(dst, rq.path) || (isWithin(rq.path, dst) && overwrite) {
		return newStatus(http.StatusForbidden, "source and destination overlap")
	}
	de, err := rq.stat(dst)
	dstExists := err == nil
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		return err
	}
	if dstExists && !overwrite {
		return newStatus(http.StatusPreconditionFailed, "destination exists")
	}
	targets := []target{{path: dst, tree: dstExists, member: !dstExists}}
	if move {
		targets = append(targets, target{path: rq.path, tree: true, member: true})
	}
	if err := rq.checkWrite(targets...); err != nil {
		return err
	}
	if _, err := rq.stat(parentOf(dst)); err != nil {
		if errors.Is(err, backends.ErrNotFound) {
			return newStatus(http.StatusConflict, "destination folder missing")
		}
		return err
	}
	// A file replaces a file in one step; anything involving a folder
	// replaces the destination as a whole.
	if dstExists && de.IsDir {
		if err := rq.allow(access.DeleteTree, dst); err != nil {
			return err
		}
	}
	if dstExists && (de.IsDir || src.IsDir) {
		failed, err := rq.removeTree(de)
		if err != nil {
			return err
		}
		if len(failed) > 0 {
			return rq.multiFailure(failed)
		}
	}
	var failed map[string]error
	if move {
		failed, err = rq.move(src, dst)
	} else {
		failed, err = rq.copyTree(src, dst, depthInfinite)
	}
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return rq.multiFailure(failed)
	}
	if dstExists {
		rq.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	rq.w.Header().Set("Location", href(dst, src.IsDir))
	rq.w.WriteHeader(http.StatusCreated)
	return nil
}

// copyTree copies src to the namespace path dst with its dead properties.
func (rq *request) copyTree(src backends.Entry, dst string, infinite bool) (map[string]error, error) {
	failed := map[string]error{}
	bdst := backendPath(dst)
	if !src.IsDir {
		if _, err := rq.fs.Copy(rq.ctx, src.Path, bdst); err != nil {
			return nil, err
		}
	} else {
		if err := rq.fs.Mkdir(rq.ctx, bdst); err != nil && !errors.Is(err, backends.ErrExist) {
			return nil, err
		}
		if infinite {
			if err := rq.copyChildren(src.Path, bdst, failed); err != nil {
				return nil, err
			}
		}
	}
	rq.forget()
	if err := rq.store.CopyProps(rq.ctx, namespacePath(src.Path), dst); err != nil {
		return nil, fmt.Errorf("copy properties: %w", err)
	}
	return failed, nil
}

// copyChildren copies what the backend folder src holds, as far as the
// person may see it, into the folder bdst, which exists; failed gets the
// namespace paths that could not be copied. Folders are made in listing
// order, which puts a folder before what it holds; files are copied several
// at once, each a request that waits on the storage.
func (rq *request) copyChildren(src, bdst string, failed map[string]error) error {
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		sem = make(chan struct{}, copyConcurrency)
	)
	defer wg.Wait()
	fail := func(p string, err error) {
		mu.Lock()
		failed[namespacePath(p)] = err
		mu.Unlock()
	}
	for c, err := range backends.All(rq.ctx, rq.fs, src, backends.ListOptions{Recursive: true}) {
		if err != nil {
			return err
		}
		if !rq.visible(namespacePath(c.Path)) {
			// A copy holds only what its author may see.
			continue
		}
		to := bdst + strings.TrimPrefix(c.Path, src)
		if c.IsDir {
			if err := rq.fs.Mkdir(rq.ctx, to); err != nil && !errors.Is(err, backends.ErrExist) {
				fail(c.Path, err)
			}
			if err := rq.ctx.Err(); err != nil {
				return err
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-rq.ctx.Done():
			return rq.ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := rq.copyListed(c, to); err != nil {
				fail(c.Path, err)
			}
		}()
	}
	return nil
}

// copyListed copies a file of a tree being copied, into the copy's own
// folder: without Copy's checks where the storage can.
func (rq *request) copyListed(src backends.Entry, to string) (backends.Entry, error) {
	if tc, ok := rq.fs.(backends.TreeCopier); ok {
		return tc.CopyListed(rq.ctx, src, to)
	}
	return rq.fs.Copy(rq.ctx, src.Path, to)
}

// move moves src to the namespace path dst, with its dead properties; the
// locks rooted at the source and below it end.
func (rq *request) move(src backends.Entry, dst string) (map[string]error, error) {
	sp := namespacePath(src.Path)
	if m, ok := rq.fs.(backends.Mover); ok {
		err := m.Move(rq.ctx, src.Path, backendPath(dst))
		if err == nil {
			rq.forget()
			if err := rq.store.MoveProps(rq.ctx, sp, dst); err != nil {
				return nil, fmt.Errorf("move properties: %w", err)
			}
			return nil, rq.store.DeleteLocks(rq.ctx, sp)
		}
		if !errors.Is(err, errors.ErrUnsupported) {
			return nil, err
		}
	}
	failed, err := rq.copyTree(src, dst, true)
	if err != nil || len(failed) > 0 {
		return failed, err
	}
	failed, err = rq.removeTree(src)
	if err != nil || len(failed) > 0 {
		return failed, err
	}
	return nil, nil
}
