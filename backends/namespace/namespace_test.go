package namespace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/local"
)

func newNS(t *testing.T) *Namespace {
	t.Helper()
	var mounts []Mount
	for _, name := range []string{"guastalla", "boretto"} {
		b, err := local.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		mounts = append(mounts, Mount{Name: name, Backend: b})
	}
	n, err := New(mounts...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func put(t *testing.T, n *Namespace, p, content string) {
	t.Helper()
	up, err := n.Create(t.Context(), p, int64(len(content)), backends.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(up, content)
	e, err := up.Commit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if e.Path != p {
		t.Fatalf("Commit entry path %q, want %q", e.Path, p)
	}
}

func TestNamespace(t *testing.T) {
	n := newNS(t)
	ctx := t.Context()
	page, err := n.List(ctx, "", backends.ListOptions{})
	if err != nil || len(page.Entries) != 2 || page.Entries[0].Path != "boretto" || !page.Entries[1].IsDir {
		t.Fatalf("root listing %+v, %v", page.Entries, err)
	}
	put(t, n, "guastalla/a.pdf", "pratica")
	if e, err := n.Stat(ctx, "guastalla/a.pdf"); err != nil || e.Path != "guastalla/a.pdf" || e.Size != 7 {
		t.Fatalf("Stat %+v, %v", e, err)
	}
	// Across mounts, Copy streams.
	if e, err := n.Copy(ctx, "guastalla/a.pdf", "boretto/b.pdf", backends.CopyOptions{}); err != nil || e.Path != "boretto/b.pdf" {
		t.Fatalf("Copy across mounts: %+v, %v", e, err)
	}
	obj, err := n.Open(ctx, "boretto/b.pdf", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(b) != "pratica" {
		t.Fatalf("copied content %q", b)
	}
	if err := n.Move(ctx, "guastalla/a.pdf", "boretto/a.pdf"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Move across mounts: %v, want ErrUnsupported", err)
	}
	if err := n.Move(ctx, "guastalla/a.pdf", "guastalla/c.pdf"); err != nil {
		t.Errorf("Move within a mount: %v", err)
	}

	refused := []struct {
		name string
		err  error
	}{
		{"create at the root", createErr(ctx, n, "x.txt")},
		{"create a mount", createErr(ctx, n, "guastalla")},
		{"mkdir at the root", n.Mkdir(ctx, "nuovo")},
		{"move a mount", n.Move(ctx, "guastalla", "boretto/g")},
		{"move onto a mount", n.Move(ctx, "guastalla/c.pdf", "boretto")},
		{"list the root recursively", listErr(ctx, n, "")},
	}
	for _, r := range refused {
		if !errors.Is(r.err, backends.ErrPermission) {
			t.Errorf("%s: %v, want ErrPermission", r.name, r.err)
		}
	}
	if err := n.Mkdir(ctx, "guastalla"); !errors.Is(err, backends.ErrExist) {
		t.Errorf("Mkdir of a mount: %v", err)
	}
	if _, err := n.Stat(ctx, "reggiolo/x"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Stat in an unknown mount: %v", err)
	}
	err = n.Delete(ctx, []string{"guastalla/c.pdf", "boretto/", "x.txt"})
	var de *backends.DeleteError
	if !errors.As(err, &de) || len(de.Failed) != 2 || !errors.Is(de.Failed["boretto/"], backends.ErrPermission) {
		t.Errorf("Delete: %v", err)
	}
	if _, err := n.Stat(ctx, "guastalla/c.pdf"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("deleted file still there: %v", err)
	}
	for p, want := range map[string]bool{"": true, "guastalla": true, "guastalla/x": false, "altro": false} {
		if got := n.Pinned(p); got != want {
			t.Errorf("Pinned(%q) = %v", p, got)
		}
	}
	if _, err := New(Mount{Name: "a/b"}); err == nil || !strings.Contains(err.Error(), "segment") {
		t.Errorf("bad mount name accepted: %v", err)
	}
}

func createErr(ctx context.Context, n *Namespace, p string) error {
	_, err := n.Create(ctx, p, 0, backends.CreateOptions{})
	return err
}

func listErr(ctx context.Context, n *Namespace, p string) error {
	_, err := n.List(ctx, p, backends.ListOptions{Recursive: true})
	return err
}

// TestStatFile: a file is described with its namespace path; folders, the
// Comuni and the root are no files.
func TestStatFile(t *testing.T) {
	n := newNS(t)
	if err := n.Mkdir(t.Context(), "guastalla/2019"); err != nil {
		t.Fatal(err)
	}
	put(t, n, "guastalla/2019/domanda.pdf", "domanda")
	for _, tt := range []struct {
		path string
		file bool
	}{
		{"guastalla/2019/domanda.pdf", true},
		{"guastalla/2019", false},
		{"guastalla", false},
		{"", false},
		{"guastalla/2019/nessuno.pdf", false},
		{"sconosciuto/a.pdf", false},
	} {
		e, err := n.StatFile(t.Context(), tt.path)
		if tt.file && (err != nil || e.Path != tt.path || e.Size != 7) {
			t.Errorf("StatFile(%q) = %+v, %v; want the file", tt.path, e, err)
		}
		if !tt.file && !errors.Is(err, backends.ErrNotFound) {
			t.Errorf("StatFile(%q) = %+v, %v; want ErrNotFound", tt.path, e, err)
		}
	}
}

// flaky is a local backend whose Check fails while err is set.
type flaky struct {
	backends.Backend
	err error
}

func (f *flaky) Check(context.Context) error { return f.err }

// TestMountDown: a mount that fails its check answers ErrUnavailable
// without asking its storage, while the others serve and the root still
// lists it; Revive brings it back once its check passes.
func TestMountDown(t *testing.T) {
	b, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ok, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bad := &flaky{Backend: b, err: errors.New("no such bucket")}
	n, err := New(Mount{Name: "poviglio", Backend: bad}, Mount{Name: "boretto", Backend: &flaky{Backend: ok}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "poviglio") {
		t.Fatalf("Check = %v, want an error naming poviglio", err)
	}
	if got := n.Down(); len(got) != 1 || got[0] != "poviglio" {
		t.Fatalf("Down = %v", got)
	}
	for name, err := range map[string]error{
		"List":   func() error { _, err := n.List(t.Context(), "poviglio", backends.ListOptions{}); return err }(),
		"Stat":   func() error { _, err := n.Stat(t.Context(), "poviglio/a"); return err }(),
		"Open":   func() error { _, err := n.Open(t.Context(), "poviglio/a", nil); return err }(),
		"Create": func() error { _, err := n.Create(t.Context(), "poviglio/a", 1, backends.CreateOptions{}); return err }(),
		"Mkdir":  n.Mkdir(t.Context(), "poviglio/d"),
	} {
		if !errors.Is(err, backends.ErrUnavailable) {
			t.Errorf("%s in a mount that is down: %v, want ErrUnavailable", name, err)
		}
	}
	if _, err := n.Stat(t.Context(), "poviglio"); err != nil {
		t.Errorf("Stat of the mount itself: %v", err)
	}
	put(t, n, "boretto/a", "x")
	if err := n.Revive(t.Context()); err == nil {
		t.Error("Revive passed a mount still failing")
	}
	bad.err = nil
	if err := n.Revive(t.Context()); err != nil || len(n.Down()) != 0 {
		t.Fatalf("Revive = %v, down %v", err, n.Down())
	}
	put(t, n, "poviglio/a", "x")
}

// slow is a local backend whose Stat fails with err.
type slow struct {
	flaky
	statErr error
}

func (s *slow) Stat(ctx context.Context, p string) (backends.Entry, error) {
	return backends.Entry{}, s.statErr
}

// TestMountDownOnTimeout: storage that did not answer in time marks its
// mount down, so the next requests do not wait too; other failures, and a
// caller that gave up, leave it up.
func TestMountDownOnTimeout(t *testing.T) {
	for _, tt := range []struct {
		name     string
		err      error
		cancel   bool
		wantDown bool
	}{
		{"request timeout", fmt.Errorf("%w: no answer: %w", backends.ErrUnavailable, context.DeadlineExceeded), false, true},
		{"stalled connection", fmt.Errorf("%w: unreachable: %w", backends.ErrUnavailable, os.ErrDeadlineExceeded), false, true},
		{"throttled", fmt.Errorf("%w: SlowDown", backends.ErrUnavailable), false, false},
		{"not found", backends.ErrNotFound, false, false},
		{"the caller gave up", fmt.Errorf("%w: %w", backends.ErrUnavailable, context.DeadlineExceeded), true, false},
	} {
		b, err := local.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		n, err := New(Mount{Name: "poviglio", Backend: &slow{flaky: flaky{Backend: b}, statErr: tt.err}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		if tt.cancel {
			cancel()
		}
		n.Stat(ctx, "poviglio/a")
		cancel()
		if down := len(n.Down()) == 1; down != tt.wantDown {
			t.Errorf("%s: down = %v, want %v", tt.name, down, tt.wantDown)
		}
		if tt.wantDown {
			if err := n.Revive(t.Context()); err != nil || len(n.Down()) != 0 {
				t.Errorf("%s: Revive = %v, down %v", tt.name, err, n.Down())
			}
		}
	}
}

// TestKeepers: locators carry the mount, a mount without a Keeper answers
// ErrUnsupported, and KeepModes says each mount's mode.
func TestKeepers(t *testing.T) {
	g, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Mount{Name: "guastalla", Backend: g}, Mount{Name: "nulla", Backend: plain{g}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if got := n.KeepMode(); got != "per mount" {
		t.Errorf("KeepMode = %q", got)
	}
	if got := n.KeepModes(); got["guastalla"] != "disk" || got["nulla"] != "none" || len(got) != 2 {
		t.Errorf("KeepModes = %v", got)
	}
	u, err := n.Create(ctx, "guastalla/a.txt", 1, backends.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("a"))
	e, err := u.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	locs, err := n.Discard(ctx, e, nil, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if loc := locs["guastalla/a.txt"]; !strings.HasPrefix(loc, "guastalla/") || len(locs) != 1 {
		t.Errorf("Discard = %v, want a locator on guastalla", locs)
	}
	if _, err := n.Discard(ctx, backends.Entry{Path: "nulla/a.txt"}, nil, "k2"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Discard on a mount without Keeper: %v", err)
	}
	if _, err := n.Hold(ctx, "guastalla", true, time.Time{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Hold on a mount without Holder: %v", err)
	}
	if n.Holdable() {
		t.Error("Holdable with no Holder mounted")
	}
}

// plain hides every capability of a backend but the Backend's own.
type plain struct{ backends.Backend }
