package namespace

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/backendtest"
	"github.com/bassareggiana/faldone/backends/local"
)

// TestConformance runs the backend conformance suite on the namespace over
// local disks. The suite needs a root that is empty and writable, which the
// namespace's own root (the mounts, read-only) is not, so it runs inside a
// mount: the suite's paths are those below the mount, and mounted adds and
// strips its name and nothing else. In the second case copies go from one
// mount to another whose backend is over the same folder, which takes the
// namespace's way of streaming between mounts.
func TestConformance(t *testing.T) {
	t.Run("one mount", func(t *testing.T) {
		backendtest.Run(t, func(t *testing.T) backends.Backend {
			return newMounted(t, false)
		})
	})
	t.Run("copies across mounts", func(t *testing.T) {
		backendtest.Run(t, func(t *testing.T) backends.Backend {
			return newMounted(t, true)
		})
	})
}

// newMounted joins "guastalla" and "boretto", empty local disks, and sees
// the namespace from inside guastalla. With across, boretto's backend is
// over guastalla's folder, and copies are made to boretto.
func newMounted(t *testing.T, across bool) *mounted {
	t.Helper()
	dir := t.TempDir()
	g, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if across {
		other = dir
	}
	b, err := local.New(other)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Mount{Name: "guastalla", Backend: g}, Mount{Name: "boretto", Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	m := &mounted{n: n, name: "guastalla", copyTo: "guastalla"}
	if across {
		m.copyTo = "boretto"
	}
	return m
}

// mounted is the namespace seen from inside the mount name; copies go to
// the mount copyTo.
type mounted struct {
	n      *Namespace
	name   string
	copyTo string
}

var (
	_ backends.Backend    = (*mounted)(nil)
	_ backends.Mover      = (*mounted)(nil)
	_ backends.FileStater = (*mounted)(nil)
	_ backends.TreeCopier = (*mounted)(nil)
	_ backends.Prober     = (*mounted)(nil)
	_ backends.Checker    = (*mounted)(nil)
)

// in is the namespace path of the mount's path p.
func in(mount, p string) string {
	if p == "" {
		return mount
	}
	return mount + "/" + p
}

// out is the mount's path of the namespace path p, which must lie in the
// mount: the suite sees a path the namespace got wrong as it is.
func out(mount, p string) string {
	if p == mount {
		return ""
	}
	if rest, ok := strings.CutPrefix(p, mount+"/"); ok {
		return rest
	}
	return "outside the mount: " + p
}

func (m *mounted) entry(mount string, e backends.Entry) backends.Entry {
	e.Path = out(mount, e.Path)
	return e
}

func (m *mounted) Stat(ctx context.Context, p string) (backends.Entry, error) {
	e, err := m.n.Stat(ctx, in(m.name, p))
	return m.entry(m.name, e), err
}

func (m *mounted) StatFile(ctx context.Context, p string) (backends.Entry, error) {
	e, err := m.n.StatFile(ctx, in(m.name, p))
	return m.entry(m.name, e), err
}

func (m *mounted) Probe(ctx context.Context, p string) (backends.Probe, error) {
	pr, err := m.n.Probe(ctx, in(m.name, p))
	if pr.File != nil {
		e := m.entry(m.name, *pr.File)
		pr.File = &e
	}
	return pr, err
}

func (m *mounted) List(ctx context.Context, dir string, opts backends.ListOptions) (backends.Page, error) {
	page, err := m.n.List(ctx, in(m.name, dir), opts)
	for i, e := range page.Entries {
		page.Entries[i] = m.entry(m.name, e)
	}
	if page.Self != nil {
		self := m.entry(m.name, *page.Self)
		page.Self = &self
	}
	return page, err
}

func (m *mounted) Open(ctx context.Context, p string, r *backends.Range) (*backends.Object, error) {
	obj, err := m.n.Open(ctx, in(m.name, p), r)
	if obj != nil {
		obj.Entry = m.entry(m.name, obj.Entry)
	}
	return obj, err
}

func (m *mounted) Create(ctx context.Context, p string, size int64, opts backends.CreateOptions) (backends.Upload, error) {
	u, err := m.n.Create(ctx, in(m.name, p), size, opts)
	if err != nil {
		return nil, err
	}
	return mountedUpload{u, m}, nil
}

type mountedUpload struct {
	backends.Upload
	m *mounted
}

func (u mountedUpload) Commit(ctx context.Context) (backends.Entry, error) {
	e, err := u.Upload.Commit(ctx)
	return u.m.entry(u.m.name, e), err
}

func (m *mounted) Mkdir(ctx context.Context, p string) error {
	return m.n.Mkdir(ctx, in(m.name, p))
}

// Copy copies to the mount copyTo; both mounts hold the same files.
func (m *mounted) Copy(ctx context.Context, src, dst string, opts backends.CopyOptions) (backends.Entry, error) {
	if opts.Source != nil {
		e := *opts.Source
		e.Path = in(m.name, e.Path)
		opts.Source = &e
	}
	e, err := m.n.Copy(ctx, in(m.name, src), in(m.copyTo, dst), opts)
	return m.entry(m.copyTo, e), err
}

func (m *mounted) CopyListed(ctx context.Context, src backends.Entry, dst string) (backends.Entry, error) {
	src.Path = in(m.name, src.Path)
	e, err := m.n.CopyListed(ctx, src, in(m.copyTo, dst))
	return m.entry(m.copyTo, e), err
}

func (m *mounted) Delete(ctx context.Context, paths []string) error {
	ps := make([]string, len(paths))
	for i, p := range paths {
		ps[i] = in(m.name, p)
	}
	err := m.n.Delete(ctx, ps)
	var de *backends.DeleteError
	if errors.As(err, &de) {
		failed := map[string]error{}
		for p, ferr := range de.Failed {
			failed[out(m.name, p)] = ferr
		}
		de.Failed = failed
	}
	return err
}

func (m *mounted) Move(ctx context.Context, src, dst string) error {
	return m.n.Move(ctx, in(m.name, src), in(m.name, dst))
}

func (m *mounted) Check(ctx context.Context) error { return m.n.Check(ctx) }

var _ backends.Keeper = (*mounted)(nil)

// The kept content's locators are the namespace's, which the suite hands
// back as they are; paths go in and out of the mount as elsewhere.

func (m *mounted) Discard(ctx context.Context, root backends.Entry, tree []backends.Entry, id string) (map[string]string, error) {
	root.Path = in(m.name, root.Path)
	inTree := make([]backends.Entry, len(tree))
	for i, e := range tree {
		e.Path = in(m.name, e.Path)
		inTree[i] = e
	}
	locs, err := m.n.Discard(ctx, root, inTree, id)
	outLocs := map[string]string{}
	for p, loc := range locs {
		outLocs[out(m.name, p)] = loc
	}
	return outLocs, err
}

func (m *mounted) Preserve(ctx context.Context, e backends.Entry, id string) (string, error) {
	e.Path = in(m.name, e.Path)
	return m.n.Preserve(ctx, e, id)
}

func (m *mounted) OpenKept(ctx context.Context, loc string, r *backends.Range) (*backends.Object, error) {
	return m.n.OpenKept(ctx, loc, r)
}

// Restore restores to the mount copyTo, as Copy copies there.
func (m *mounted) Restore(ctx context.Context, loc, dst string) (backends.Entry, error) {
	e, err := m.n.Restore(ctx, loc, in(m.copyTo, dst))
	return m.entry(m.copyTo, e), err
}

func (m *mounted) Purge(ctx context.Context, locs []string) error { return m.n.Purge(ctx, locs) }

func (m *mounted) KeepMode() string { return m.n.KeepModes()[m.name] }
