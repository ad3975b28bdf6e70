package archive_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/local"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/sqlite"
)

// policy hides /nascosto, lets /lettura be read only, and lets no one
// delete a folder below /cartelle-fisse.
type policy struct{}

func (policy) Decide(a access.Action, p string) access.Verdict {
	switch {
	case p == "/nascosto" || strings.HasPrefix(p, "/nascosto/"):
		return access.Hide
	case (p == "/lettura" || strings.HasPrefix(p, "/lettura/")) && a != access.Read && a != access.Copy:
		return access.Deny
	case strings.HasPrefix(p, "/cartelle-fisse/") && a == access.DeleteTree:
		return access.Deny
	}
	return access.Allow
}

// quota gives the Comune of a path 100 bytes and counts what is added.
type quota struct{ used int64 }

func (q *quota) Quota(p string) (int64, int64, bool) { return q.used, 100 - q.used, true }
func (q *quota) Add(p string, delta int64)           { q.used += delta }

type fixture struct {
	t       *testing.T
	root    string
	svc     *archive.Service
	store   *sqlite.Store
	quota   *quota
	changed []string
}

func newFixture(t *testing.T) *fixture {
	root := t.TempDir()
	for _, d := range []string{"comune/pratica", "lettura", "nascosto", "cartelle-fisse/a"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "comune/pratica/domanda.pdf"), []byte("domanda"), 0o644)
	os.WriteFile(filepath.Join(root, "lettura/atto.pdf"), []byte("atto"), 0o644)
	fs, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, root: root, store: st, quota: &quota{}}
	f.svc = archive.New(fs, st, archive.Options{Quota: f.quota, Changed: func(p string, tree bool) { f.changed = append(f.changed, p) }})
	return f
}

func (f *fixture) op(tokens ...string) *archive.Op {
	held := map[string]bool{}
	for _, t := range tokens {
		held[t] = true
	}
	return f.svc.Begin(f.t.Context(), archive.Caller{Principal: "RSSMRA80A01H501U", Policy: policy{}, Tokens: held})
}

func (f *fixture) content(p string) string {
	b, err := os.ReadFile(filepath.Join(f.root, p))
	if err != nil {
		return "<none>"
	}
	return string(b)
}

// TestOperations: each operation's outcome, and the status its error
// maps to, for the cases the adapters rely on.
func TestOperations(t *testing.T) {
	put := func(p, body string) func(*archive.Op) error {
		return func(o *archive.Op) error {
			_, _, err := o.Put(p, strings.NewReader(body), int64(len(body)))
			return err
		}
	}
	tests := []struct {
		name   string
		run    func(*archive.Op) error
		status int
		check  func(*fixture) string // "" when the result is right
	}{
		{"put a new file", put("/comune/pratica/tavola.dwg", "linee"), http.StatusOK,
			func(f *fixture) string { return want(f.content("comune/pratica/tavola.dwg"), "linee") }},
		{"put over a file", put("/comune/pratica/domanda.pdf", "nuova"), http.StatusOK,
			func(f *fixture) string { return want(f.content("comune/pratica/domanda.pdf"), "nuova") }},
		{"put composes a decomposed name", put("/comune/pratica/Universita\u0300.pdf", "x"), http.StatusOK,
			func(f *fixture) string { return want(f.content("comune/pratica/Universit\u00e0.pdf"), "x") }},
		{"put on a folder", put("/comune/pratica", "x"), http.StatusMethodNotAllowed, nil},
		{"put into a missing folder", put("/comune/manca/x.pdf", "x"), http.StatusConflict, nil},
		{"put where only reading is allowed", put("/lettura/x.pdf", "x"), http.StatusForbidden, nil},
		{"put where nothing may be seen", put("/nascosto/x.pdf", "x"), http.StatusNotFound, nil},
		{"put with a dot-dot", put("/comune/../x.pdf", "x"), http.StatusBadRequest, nil},
		{"put beyond the quota", put("/comune/grande.pdf", strings.Repeat("x", 101)), http.StatusInsufficientStorage,
			func(f *fixture) string { return want(f.content("comune/grande.pdf"), "<none>") }},
		{"put of an unknown size beyond the quota", func(o *archive.Op) error {
			_, _, err := o.Put("/comune/grande.pdf", strings.NewReader(strings.Repeat("x", 101)), -1)
			return err
		}, http.StatusInsufficientStorage, func(f *fixture) string { return want(f.content("comune/grande.pdf"), "<none>") }},
		{"put of an unknown size within the quota", func(o *archive.Op) error {
			_, _, err := o.Put("/comune/piccolo.pdf", strings.NewReader("x"), -1)
			return err
		}, http.StatusOK, func(f *fixture) string { return want(f.content("comune/piccolo.pdf"), "x") }},
		{"put that ends short", func(o *archive.Op) error {
			_, _, err := o.Put("/comune/pratica/domanda.pdf", strings.NewReader("nu"), 5)
			return err
		}, http.StatusBadRequest, func(f *fixture) string { return want(f.content("comune/pratica/domanda.pdf"), "domanda") }},
		{"put whose content fails", func(o *archive.Op) error {
			_, _, err := o.Put("/comune/pratica/domanda.pdf", iotest.ErrReader(errors.New("connection reset")), -1)
			return err
		}, http.StatusBadRequest, func(f *fixture) string { return want(f.content("comune/pratica/domanda.pdf"), "domanda") }},
		{"mkdir", func(o *archive.Op) error { return o.Mkdir("/comune/nuova") }, http.StatusOK, nil},
		{"mkdir where something is", func(o *archive.Op) error { return o.Mkdir("/comune/pratica") }, http.StatusMethodNotAllowed, nil},
		{"mkdir in a missing folder", func(o *archive.Op) error { return o.Mkdir("/comune/manca/nuova") }, http.StatusConflict, nil},
		{"delete a folder", func(o *archive.Op) error { return o.Delete("/comune/pratica") }, http.StatusOK,
			func(f *fixture) string { return want(f.content("comune/pratica/domanda.pdf"), "<none>") }},
		{"delete a folder the policy keeps", func(o *archive.Op) error { return o.Delete("/cartelle-fisse/a") }, http.StatusForbidden, nil},
		{"delete the root", func(o *archive.Op) error { return o.Delete("/") }, http.StatusForbidden, nil},
		{"delete what is not there", func(o *archive.Op) error { return o.Delete("/comune/manca") }, http.StatusNotFound, nil},
		{"copy a folder", func(o *archive.Op) error {
			_, err := o.Copy("/comune/pratica", "/comune/copia", false, true)
			return err
		}, http.StatusOK,
			func(f *fixture) string { return want(f.content("comune/copia/domanda.pdf"), "domanda") }},
		{"copy onto a name in use without overwrite", func(o *archive.Op) error {
			_, err := o.Copy("/lettura/atto.pdf", "/comune/pratica/domanda.pdf", false, true)
			return err
		}, http.StatusPreconditionFailed, nil},
		{"copy into itself", func(o *archive.Op) error { _, err := o.Copy("/comune", "/comune/pratica/x", true, true); return err }, http.StatusForbidden, nil},
		{"move a file", func(o *archive.Op) error {
			_, err := o.Move("/comune/pratica/domanda.pdf", "/comune/domanda.pdf", false)
			return err
		}, http.StatusOK,
			func(f *fixture) string {
				return want(f.content("comune/domanda.pdf")+" "+f.content("comune/pratica/domanda.pdf"), "domanda <none>")
			}},
		{"move out of a read-only folder", func(o *archive.Op) error {
			_, err := o.Move("/lettura/atto.pdf", "/comune/atto.pdf", false)
			return err
		}, http.StatusForbidden, nil},
		{"move to a missing folder", func(o *archive.Op) error { _, err := o.Move("/comune/pratica", "/manca/pratica", false); return err }, http.StatusConflict, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			err := tt.run(f.op())
			if got := archive.Status(err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
			if tt.check != nil {
				if msg := tt.check(f); msg != "" {
					t.Error(msg)
				}
			}
			if err == nil && len(f.changed) == 0 {
				t.Error("no change hook after a change")
			}
			if err != nil && len(f.changed) != 0 {
				t.Errorf("change hook after a failure: %v", f.changed)
			}
		})
	}
}

func want(got, want string) string {
	if got != want {
		return "got " + got + ", want " + want
	}
	return ""
}

// TestLocks: a lock guards what it covers against everyone but its owner
// with its token; the error names where the lock is and who holds it.
func TestLocks(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	l := state.Lock{Token: "urn:uuid:1", Root: "/comune/pratica", Infinite: true, Principal: "VRDGPP13R10B293J",
		Timeout: time.Hour, Expires: now.Add(time.Hour), Created: now}
	if err := f.store.CreateLock(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.op("urn:uuid:1").Put("/comune/pratica/domanda.pdf", strings.NewReader("x"), 1)
	var le *archive.LockedError
	if !errors.As(err, &le) || le.Root != "/comune/pratica" || le.Owner != "VRDGPP13R10B293J" || archive.Status(err) != http.StatusLocked {
		t.Fatalf("put into a folder another person locked, with their token: %v, want locked by them", err)
	}
	if err := f.op().Delete("/comune"); !errors.As(err, &le) {
		t.Errorf("delete of the folder above: %v, want locked", err)
	}
	if err := f.op().Mkdir("/comune/altra"); err != nil {
		t.Errorf("mkdir beside the lock: %v", err)
	}
	owner := f.svc.Begin(t.Context(), archive.Caller{Principal: "VRDGPP13R10B293J", Policy: policy{}, Tokens: map[string]bool{"urn:uuid:1": true}})
	if _, _, err := owner.Put("/comune/pratica/domanda.pdf", strings.NewReader("x"), 1); err != nil {
		t.Errorf("put by the owner with the token: %v", err)
	}
	// The caller's own preconditions come before the locks.
	pre := errors.New("If header false")
	checked := f.svc.Begin(t.Context(), archive.Caller{Principal: "x", Policy: policy{}, Check: func() error { return pre }})
	if err := checked.Delete("/comune/pratica/domanda.pdf"); !errors.Is(err, pre) {
		t.Errorf("delete with a failing precondition under a lock: %v, want the precondition's error", err)
	}
}

// TestLockOperations: taking, refreshing and releasing locks.
func TestLockOperations(t *testing.T) {
	f := newFixture(t)
	l, created, err := f.op().Lock("/comune/pratica/nuovo.dwg", archive.LockRequest{Timeout: time.Minute})
	if err != nil || !created || f.content("comune/pratica/nuovo.dwg") != "" {
		t.Fatalf("lock of an unmapped path: %v, created %v, content %q; want an empty file", err, created, f.content("comune/pratica/nuovo.dwg"))
	}
	other := f.svc.Begin(t.Context(), archive.Caller{Principal: "VRDGPP13R10B293J", Policy: policy{}, Tokens: map[string]bool{l.Token: true}})
	if _, _, err := other.Lock("/comune/pratica/nuovo.dwg", archive.LockRequest{Timeout: time.Minute}); archive.Status(err) != http.StatusLocked {
		t.Errorf("a second exclusive lock: %v, want 423", err)
	}
	if _, err := other.Refresh("/comune/pratica/nuovo.dwg", time.Hour); !errors.Is(err, archive.ErrLockMismatch) {
		t.Errorf("refresh of another person's lock: %v, want ErrLockMismatch", err)
	}
	if err := other.Unlock("/comune/pratica/nuovo.dwg", l.Token); archive.Status(err) != http.StatusForbidden {
		t.Errorf("unlock of another person's lock: %v, want 403", err)
	}
	if err := f.op().Unlock("/comune/pratica/domanda.pdf", l.Token); !errors.Is(err, archive.ErrLockMismatch) {
		t.Errorf("unlock naming another resource: %v, want ErrLockMismatch", err)
	}
	owner := f.op(l.Token)
	if r, err := owner.Refresh("/comune/pratica/nuovo.dwg", time.Hour); err != nil || r.Timeout != time.Hour {
		t.Errorf("refresh by the owner: %+v, %v", r, err)
	}
	if err := owner.Unlock("/comune/pratica/nuovo.dwg", l.Token); err != nil {
		t.Errorf("unlock by the owner: %v", err)
	}
	if _, _, err := f.op().Lock("/lettura/atto.pdf", archive.LockRequest{}); archive.Status(err) != http.StatusForbidden {
		t.Errorf("lock where the policy refuses locking: %v, want 403", err)
	}
	if _, _, err := f.op().Lock("/nascosto/x", archive.LockRequest{}); archive.Status(err) != http.StatusNotFound {
		t.Errorf("lock where nothing may be seen: %v, want 404", err)
	}
}

// telling is a backend that probes with Stat, copies instead of renaming,
// and records what the service tells it.
type telling struct {
	backends.Backend
	created map[string]backends.CreateOptions
	copied  map[string]backends.CopyOptions
}

func (b *telling) Probe(ctx context.Context, p string) (backends.Probe, error) {
	e, err := b.Stat(ctx, p)
	switch {
	case errors.Is(err, backends.ErrNotFound):
		return backends.Probe{}, nil
	case err != nil:
		return backends.Probe{}, err
	case e.IsDir:
		return backends.Probe{Dir: true, Parent: true}, nil
	}
	return backends.Probe{File: &e, Parent: true}, nil
}

func (b *telling) Create(ctx context.Context, p string, size int64, opts backends.CreateOptions) (backends.Upload, error) {
	b.created[p] = opts
	return b.Backend.Create(ctx, p, size, opts)
}

func (b *telling) Copy(ctx context.Context, src, dst string, opts backends.CopyOptions) (backends.Entry, error) {
	b.copied[dst] = opts
	return b.Backend.Copy(ctx, src, dst, opts)
}

// TestTold: what the service tells the storage it found, in each case: the
// parent when a look saw it or the service did lately and nothing here
// removed it since; no folder at the path when a look said so; the source
// as its Stat described it.
func TestTold(t *testing.T) {
	f := newFixture(t)
	fs, err := local.New(f.root)
	if err != nil {
		t.Fatal(err)
	}
	b := &telling{Backend: fs, created: map[string]backends.CreateOptions{}, copied: map[string]backends.CopyOptions{}}
	svc := archive.New(b, f.store, archive.Options{})
	op := func() *archive.Op {
		return svc.Begin(t.Context(), archive.Caller{Principal: "RSSMRA80A01H501U", Policy: policy{}})
	}
	put := func(p string) error {
		_, _, err := op().Put(p, strings.NewReader("x"), 1)
		return err
	}
	mustPut := func(p string) {
		t.Helper()
		if err := put(p); err != nil {
			t.Fatalf("put %s: %v", p, err)
		}
	}
	noFolder := backends.CreateOptions{NoDir: true}
	both := backends.CreateOptions{ParentExists: true, NoDir: true}

	mustPut("/comune/pratica/a.pdf") // nothing seen the folder yet
	mustPut("/comune/pratica/b.pdf") // a.pdf's write did
	mustPut("/comune/pratica/a.pdf") // the look found the file
	mustPut("/radice.pdf")           // the root is always there
	if err := op().Delete("/comune/pratica/b.pdf"); err != nil {
		t.Fatal(err)
	}
	mustPut("/comune/pratica/c.pdf") // the delete may have emptied the folder
	if err := os.MkdirAll(filepath.Join(f.root, "comune/vista"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := op().Stat("/comune/vista"); err != nil {
		t.Fatal(err)
	}
	mustPut("/comune/vista/d.pdf") // a Stat saw the folder
	if err := op().Delete("/comune/vista"); err != nil {
		t.Fatal(err)
	}
	if err := put("/comune/vista/e.pdf"); archive.Status(err) != http.StatusConflict {
		t.Errorf("put into the folder just deleted: %v, want 409", err)
	}
	for p, want := range map[string]backends.CreateOptions{
		"comune/pratica/a.pdf": both, "comune/pratica/b.pdf": both, "radice.pdf": both,
		"comune/pratica/c.pdf": noFolder, "comune/vista/d.pdf": both, "comune/vista/e.pdf": noFolder,
	} {
		if got := b.created[p]; got != want {
			t.Errorf("Create(%s) told %+v, want %+v", p, got, want)
		}
	}

	// A move in a folder: the source's folder is the destination's.
	src, err := fs.Stat(t.Context(), "comune/pratica/domanda.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op().Move("/comune/pratica/domanda.pdf", "/comune/pratica/domanda.bak", false); err != nil {
		t.Fatal(err)
	}
	// A copy into a folder nothing has seen: looked up, then told.
	if err := os.MkdirAll(filepath.Join(f.root, "comune/altra"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := op().Copy("/comune/pratica/a.pdf", "/comune/altra/a.pdf", false, true); err != nil {
		t.Fatal(err)
	}
	moved := b.copied["comune/pratica/domanda.bak"]
	if moved.Source == nil || moved.Source.Path != src.Path || moved.Source.ETag != src.ETag || !moved.ParentExists || !moved.NoDir {
		t.Errorf("Copy of the move told %+v, want the source's Stat, its folder, no folder at the destination", moved)
	}
	if copied := b.copied["comune/altra/a.pdf"]; copied.Source == nil || !copied.ParentExists || !copied.NoDir {
		t.Errorf("Copy into a folder looked up told %+v", copied)
	}
	if got := f.content("comune/pratica/domanda.bak"); got != "domanda" {
		t.Errorf("the moved file holds %q", got)
	}
}

// TestPatchProps: dead properties change as any change does: authorized,
// on what exists, past the locks; a check alone changes nothing.
func TestPatchProps(t *testing.T) {
	f := newFixture(t)
	nota := state.Prop{PropName: state.PropName{Space: "urn:faldone", Local: "nota"}, InnerXML: []byte("protocollo 42")}
	if err := f.op().PatchProps("/comune/pratica/domanda.pdf", []state.Prop{nota}, nil); err != nil {
		t.Fatal(err)
	}
	props, err := f.store.Props(t.Context(), "/comune/pratica/domanda.pdf")
	if err != nil || len(props) != 1 || string(props[0].InnerXML) != "protocollo 42" {
		t.Errorf("properties after the patch: %+v, %v", props, err)
	}
	for _, tt := range []struct {
		p      string
		status int
	}{
		{"/comune/manca.pdf", http.StatusNotFound},
		{"/lettura/atto.pdf", http.StatusForbidden},
		{"/nascosto/x", http.StatusNotFound},
	} {
		if err := f.op().PatchProps(tt.p, []state.Prop{nota}, nil); archive.Status(err) != tt.status {
			t.Errorf("patch of %s: %v, want %d", tt.p, err, tt.status)
		}
	}
	now := time.Now()
	f.store.CreateLock(t.Context(), state.Lock{Token: "urn:uuid:2", Root: "/comune/pratica", Infinite: true, Principal: "altri",
		Timeout: time.Hour, Expires: now.Add(time.Hour), Created: now})
	if err := f.op().PatchProps("/comune/pratica/domanda.pdf", nil, []state.PropName{nota.PropName}); archive.Status(err) != http.StatusLocked {
		t.Errorf("patch under another person's lock: %v, want 423", err)
	}
}
