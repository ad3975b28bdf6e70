// Package namespace joins the Comuni's storage backends into one tree: the
// first path segment names a mount (a Comune), the rest is a path on that
// mount's backend. The root lists the mounts and is read-only.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bassareggiana/faldone/backends"
)

// Mount attaches a backend under a name.
type Mount struct {
	Name    string
	Backend backends.Backend
}

// Namespace is a backends.Backend over several mounts.
//
// A mount whose storage fails its Check is down: every request into it is
// ErrUnavailable without asking the storage, so that a bucket that is
// missing or out answers 503 rather than 404 or a wait, while the other
// mounts serve. It is up again once a Check or Revive finds it usable.
type Namespace struct {
	mounts  map[string]backends.Backend
	names   []string
	created time.Time

	mu   sync.Mutex
	down map[string]error // why each mount that is down failed its check
}

// New joins mounts; names must be unique, non-empty single segments.
func New(mounts ...Mount) (*Namespace, error) {
	n := &Namespace{mounts: map[string]backends.Backend{}, created: time.Now().UTC(), down: map[string]error{}}
	for _, m := range mounts {
		if m.Name == "" || strings.ContainsAny(m.Name, "/\\") || m.Name == "." || m.Name == ".." {
			return nil, fmt.Errorf("mount name %q is not a single path segment", m.Name)
		}
		if _, dup := n.mounts[m.Name]; dup {
			return nil, fmt.Errorf("mount %q defined twice", m.Name)
		}
		n.mounts[m.Name] = m.Backend
		n.names = append(n.names, m.Name)
	}
	sort.Strings(n.names)
	return n, nil
}

// resolve splits p into its mount and the path on the mount's backend.
func (n *Namespace) resolve(p string) (string, backends.Backend, string, error) {
	name, rest, _ := strings.Cut(p, "/")
	b, ok := n.mounts[name]
	if !ok {
		return "", nil, "", fmt.Errorf("mount %q: %w", name, backends.ErrNotFound)
	}
	n.mu.Lock()
	err := n.down[name]
	n.mu.Unlock()
	if err != nil {
		return "", nil, "", fmt.Errorf("mount %q is down: %w", name, backends.ErrUnavailable)
	}
	return name, b, rest, nil
}

// resolveInside is resolve for paths that must lie inside a mount, not be it.
func (n *Namespace) resolveInside(p string) (string, backends.Backend, string, error) {
	name, b, rest, err := n.resolve(p)
	if err != nil {
		if p != "" && !strings.Contains(p, "/") {
			return "", nil, "", fmt.Errorf("%q at the root: %w", p, backends.ErrPermission)
		}
		return "", nil, "", err
	}
	if rest == "" {
		return "", nil, "", fmt.Errorf("mount %q itself: %w", name, backends.ErrPermission)
	}
	return name, b, rest, nil
}

func (n *Namespace) rootEntry(name string) backends.Entry {
	return backends.Entry{Path: name, IsDir: true, ModTime: n.created}
}

func prefixed(name string, e backends.Entry) backends.Entry {
	if e.Path == "" {
		e.Path = name
	} else {
		e.Path = name + "/" + e.Path
	}
	return e
}

func (n *Namespace) Stat(ctx context.Context, p string) (backends.Entry, error) {
	if p == "" {
		return n.rootEntry(""), nil
	}
	if _, ok := n.mounts[p]; ok { // known without its storage, even when down
		return n.rootEntry(p), nil
	}
	name, b, rest, err := n.resolve(p)
	if err != nil {
		return backends.Entry{}, err
	}
	if rest == "" {
		return n.rootEntry(name), nil
	}
	e, err := b.Stat(ctx, rest)
	return prefixed(name, e), n.seen(ctx, name, err)
}

// StatFile is Stat for the file at p alone, on the backends that have a
// cheaper way to it (backends.FileStater); the roots are folders, not files.
func (n *Namespace) StatFile(ctx context.Context, p string) (backends.Entry, error) {
	name, b, rest, err := n.resolve(p)
	if err != nil || rest == "" {
		return backends.Entry{}, &fs.PathError{Op: "stat", Path: p, Err: backends.ErrNotFound}
	}
	fsb, ok := b.(backends.FileStater)
	if !ok {
		e, err := b.Stat(ctx, rest)
		err = n.seen(ctx, name, err)
		if err == nil && e.IsDir {
			err = &fs.PathError{Op: "stat", Path: p, Err: backends.ErrNotFound}
		}
		return prefixed(name, e), err
	}
	e, err := fsb.StatFile(ctx, rest)
	return prefixed(name, e), n.seen(ctx, name, err)
}

func (n *Namespace) List(ctx context.Context, dir string, opts backends.ListOptions) (backends.Page, error) {
	if dir == "" {
		if opts.Recursive {
			return backends.Page{}, fmt.Errorf("recursive listing of the root: %w", backends.ErrPermission)
		}
		root := n.rootEntry("")
		page := backends.Page{Self: &root}
		for _, name := range n.names {
			page.Entries = append(page.Entries, n.rootEntry(name))
		}
		return page, nil
	}
	name, b, rest, err := n.resolve(dir)
	if err != nil {
		return backends.Page{}, err
	}
	page, err := b.List(ctx, rest, opts)
	err = n.seen(ctx, name, err)
	for i := range page.Entries {
		page.Entries[i] = prefixed(name, page.Entries[i])
	}
	if page.Self != nil {
		self := prefixed(name, *page.Self)
		if rest == "" {
			self = n.rootEntry(name)
		}
		page.Self = &self
	}
	return page, err
}

func (n *Namespace) Open(ctx context.Context, p string, r *backends.Range) (*backends.Object, error) {
	if p == "" {
		return nil, backends.ErrIsDir
	}
	name, b, rest, err := n.resolve(p)
	if err != nil {
		return nil, err
	}
	if rest == "" {
		return nil, backends.ErrIsDir
	}
	obj, err := b.Open(ctx, rest, r)
	err = n.seen(ctx, name, err)
	if obj != nil {
		obj.Entry = prefixed(name, obj.Entry)
	}
	return obj, err
}

// Create starts the upload on p's mount, with what opts tell: a path in the
// mount's root has its parent, the mount, whatever they tell.
func (n *Namespace) Create(ctx context.Context, p string, size int64, opts backends.CreateOptions) (backends.Upload, error) {
	name, b, rest, err := n.resolveInside(p)
	if err != nil {
		return nil, err
	}
	up, err := b.Create(ctx, rest, size, opts)
	if err != nil {
		return nil, n.seen(ctx, name, err)
	}
	return &upload{Upload: up, name: name, n: n}, nil
}

type upload struct {
	backends.Upload
	name string
	n    *Namespace
}

func (u *upload) Write(p []byte) (int, error) {
	k, err := u.Upload.Write(p)
	return k, u.n.seen(context.Background(), u.name, err)
}

func (u *upload) Commit(ctx context.Context) (backends.Entry, error) {
	e, err := u.Upload.Commit(ctx)
	return prefixed(u.name, e), u.n.seen(ctx, u.name, err)
}

func (n *Namespace) Mkdir(ctx context.Context, p string) error {
	if _, ok := n.mounts[p]; ok {
		return fmt.Errorf("mount %q: %w", p, backends.ErrExist)
	}
	name, b, rest, err := n.resolveInside(p)
	if err != nil {
		return err
	}
	return n.seen(ctx, name, b.Mkdir(ctx, rest))
}

// Copy copies on the server side within a mount and streams between mounts,
// which may live on different storage. What opts tell of the destination
// goes to its mount; the source's entry, the mount's own, to a copy within
// the mount.
func (n *Namespace) Copy(ctx context.Context, src, dst string, opts backends.CopyOptions) (backends.Entry, error) {
	sname, sb, srest, err := n.resolveInside(src)
	if err != nil {
		return backends.Entry{}, err
	}
	dname, db, drest, err := n.resolveInside(dst)
	if err != nil {
		return backends.Entry{}, err
	}
	if sname == dname {
		ok := true
		if opts.Source != nil {
			e := *opts.Source
			e.Path, ok = strings.CutPrefix(e.Path, sname+"/")
			opts.Source = &e
			if !ok {
				opts.Source = nil // another's: none
			}
		}
		e, err := sb.Copy(ctx, srest, drest, opts)
		return prefixed(dname, e), n.seen(ctx, sname, err)
	}
	obj, err := sb.Open(ctx, srest, nil)
	if err != nil {
		return backends.Entry{}, err
	}
	defer obj.Body.Close()
	up, err := db.Create(ctx, drest, obj.Length, backends.CreateOptions{ParentExists: opts.ParentExists, NoDir: opts.NoDir})
	if err != nil {
		return backends.Entry{}, err
	}
	if _, err := io.Copy(up, obj.Body); err != nil {
		return backends.Entry{}, errors.Join(fmt.Errorf("copy between mounts: %w", err), up.Abort(ctx))
	}
	e, err := up.Commit(ctx)
	return prefixed(dname, e), err
}

// CopyListed copies a file found by a listing of a tree being copied
// (backends.TreeCopier): without Copy's checks where its mount can, by
// Copy otherwise.
func (n *Namespace) CopyListed(ctx context.Context, src backends.Entry, dst string) (backends.Entry, error) {
	sname, sb, srest, err := n.resolveInside(src.Path)
	if err != nil {
		return backends.Entry{}, err
	}
	dname, _, drest, err := n.resolveInside(dst)
	if err != nil {
		return backends.Entry{}, err
	}
	tc, ok := sb.(backends.TreeCopier)
	if sname != dname || !ok {
		// The caller made dst's folder for the copy, as CopyListed's own.
		return n.Copy(ctx, src.Path, dst, backends.CopyOptions{Source: &src, ParentExists: true, NoDir: true})
	}
	src.Path = srest
	e, err := tc.CopyListed(ctx, src, drest)
	return prefixed(dname, e), n.seen(ctx, sname, err)
}

// Delete deletes each path on its mount's backend. As theirs, a cancelled
// Delete is the context's error, not a *DeleteError.
func (n *Namespace) Delete(ctx context.Context, paths []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := map[string]error{}
	groups := map[string][]string{}
	for _, p := range paths {
		name, _, rest, err := n.resolveInside(strings.TrimSuffix(p, "/"))
		if err != nil {
			failed[p] = err
			continue
		}
		if strings.HasSuffix(p, "/") {
			rest += "/"
		}
		groups[name] = append(groups[name], rest)
	}
	for name, rests := range groups {
		err := n.seen(ctx, name, n.mounts[name].Delete(ctx, rests))
		var de *backends.DeleteError
		switch {
		case err != nil && ctx.Err() != nil && !errors.As(err, &de):
			return err
		case errors.As(err, &de):
			for p, ferr := range de.Failed {
				failed[name+"/"+p] = ferr
			}
		case err != nil:
			for _, p := range rests {
				failed[name+"/"+p] = err
			}
		}
	}
	if len(failed) > 0 {
		return &backends.DeleteError{Failed: failed}
	}
	return nil
}

// Probe looks at p on its mount: with the mount's own Probe, or else its
// Stat, which on a disk tells exactly what is at p. A mount is a folder, and
// the root holds it.
func (n *Namespace) Probe(ctx context.Context, p string) (backends.Probe, error) {
	if p == "" {
		return backends.Probe{Dir: true, Parent: true}, nil
	}
	name, b, rest, err := n.resolve(p)
	if err != nil {
		return backends.Probe{}, err
	}
	if rest == "" {
		return backends.Probe{Dir: true, Parent: true}, nil
	}
	if pb, ok := b.(backends.Prober); ok {
		pr, err := pb.Probe(ctx, rest)
		if pr.File != nil {
			e := prefixed(name, *pr.File)
			pr.File = &e
		}
		return pr, n.seen(ctx, name, err)
	}
	// In the mount's root, the parent is the mount.
	pr := backends.Probe{Parent: !strings.Contains(rest, "/")}
	e, err := b.Stat(ctx, rest)
	switch {
	case errors.Is(err, backends.ErrNotFound):
		return pr, nil
	case err != nil:
		return backends.Probe{}, n.seen(ctx, name, err)
	case e.IsDir:
		pr.Dir = true
	default:
		e = prefixed(name, e)
		pr.File = &e
	}
	pr.Parent = true
	return pr, nil
}

// Move renames within a mount whose backend can; otherwise it answers
// errors.ErrUnsupported and the caller copies and deletes.
func (n *Namespace) Move(ctx context.Context, src, dst string) error {
	sname, sb, srest, err := n.resolveInside(src)
	if err != nil {
		return err
	}
	dname, _, drest, err := n.resolveInside(dst)
	if err != nil {
		return err
	}
	m, ok := sb.(backends.Mover)
	if !ok || sname != dname {
		return errors.ErrUnsupported
	}
	return n.seen(ctx, sname, m.Move(ctx, srest, drest))
}

// Pinned reports whether p is the root or a mount.
func (n *Namespace) Pinned(p string) bool {
	_, ok := n.mounts[p]
	return ok || p == ""
}

// seen marks the mount down when err says that its storage did not answer
// in time (a request timeout, a stalled connection), while the caller still
// waited: the requests after it are answered 503 at once, rather than each
// waiting as long, until Revive finds the storage answering again. Other
// failures, refusals and a throttling S3 included, leave the mount up. It
// returns err.
func (n *Namespace) seen(ctx context.Context, name string, err error) error {
	if err == nil || ctx.Err() != nil || !errors.Is(err, backends.ErrUnavailable) ||
		!(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)) {
		return err
	}
	n.mu.Lock()
	if n.down[name] == nil {
		n.down[name] = err
	}
	n.mu.Unlock()
	return err
}

// Check verifies every mount whose backend can be checked, at once, and
// marks each down or up by the answer.
func (n *Namespace) Check(ctx context.Context) error {
	return n.check(ctx, n.names)
}

// Revive checks the mounts that are down, and marks up those that pass.
func (n *Namespace) Revive(ctx context.Context) error {
	return n.check(ctx, n.Down())
}

// Down names the mounts that are down, in order.
func (n *Namespace) Down() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var names []string
	for _, name := range n.names {
		if n.down[name] != nil {
			names = append(names, name)
		}
	}
	return names
}

func (n *Namespace) check(ctx context.Context, names []string) error {
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		c, ok := n.mounts[name].(backends.Checker)
		if !ok {
			continue
		}
		wg.Go(func() {
			err := c.Check(ctx)
			if ctx.Err() != nil {
				return // the caller gave up: that says nothing of the storage
			}
			n.mu.Lock()
			if err != nil {
				n.down[name] = err
				errs[i] = fmt.Errorf("mount %q: %w", name, err)
			} else {
				delete(n.down, name)
			}
			n.mu.Unlock()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
