package dav

import (
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/local"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/sqlite"
)

// davTest is a handler as the server wires it, over a local backend in a
// temporary folder and an SQLite store, with testPolicy and the person that
// the header userHeader names.
// testStore is what the handler and the archive service need of the
// state store, which tests wrap to make it fail or count.
type testStore interface {
	state.ResourceStore
	state.DigestStore
	state.DossierStore
	state.TrashStore
}

type davTest struct {
	t     *testing.T
	h     *Handler
	root  string // the backend's folder on disk
	store testStore
}

// userHeader names the person of a test request; locks record it.
const userHeader = "X-Test-User"

// newDAVTest builds the handler; wrap, when not nil, stands between it and
// the backend and store (to count or fail their calls).
func newDAVTest(t *testing.T, opts Options, wrap func(backends.Backend, testStore) (backends.Backend, testStore)) *davTest {
	t.Helper()
	root := t.TempDir()
	fs, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var (
		b     backends.Backend = fs
		store testStore        = st
	)
	if wrap != nil {
		b, store = wrap(b, store)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	principal := func(r *http.Request) string { return r.Header.Get(userHeader) }
	policy := func(*http.Request) (Policy, error) { return testPolicy{}, nil }
	// What the configuration gives a real server.
	if opts.MaxXMLBody == 0 {
		opts.MaxXMLBody = 1 << 20
	}
	if opts.DefaultLockTimeout == 0 {
		opts.DefaultLockTimeout, opts.MaxLockTimeout = time.Hour, 24*time.Hour
	}
	svc := archive.New(b, store, archive.Options{Log: log})
	return &davTest{t: t, h: New(svc, store, log, principal, policy, opts), root: root, store: st}
}

// testPolicy hides /nascosto and everything below it, and allows only
// reading /sola-lettura and below.
type testPolicy struct{}

func (testPolicy) Decide(a access.Action, p string) access.Verdict {
	switch {
	case p == "/nascosto" || strings.HasPrefix(p, "/nascosto/"):
		return access.Hide
	case (p == "/sola-lettura" || strings.HasPrefix(p, "/sola-lettura/")) && a != access.Read && a != access.Copy:
		return access.Deny
	}
	return access.Allow
}

// do serves one request; header holds names and values in turn.
func (d *davTest) do(method, target, body string, header ...string) *httptest.ResponseRecorder {
	d.t.Helper()
	r := httptest.NewRequestWithContext(d.t.Context(), method, target, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	d.h.ServeHTTP(w, r)
	return w
}

// write stores a file on the disk behind the backend, making its folders.
func (d *davTest) write(p, content string) {
	d.t.Helper()
	full := filepath.Join(d.root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		d.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// mkdir makes a folder on the disk behind the backend.
func (d *davTest) mkdir(p string) {
	d.t.Helper()
	if err := os.MkdirAll(filepath.Join(d.root, filepath.FromSlash(p)), 0o755); err != nil {
		d.t.Fatal(err)
	}
}

// read returns the content of a file on the disk behind the backend, or
// "<missing>".
func (d *davTest) read(p string) string {
	d.t.Helper()
	b, err := os.ReadFile(filepath.Join(d.root, filepath.FromSlash(p)))
	if err != nil {
		return "<missing>"
	}
	return string(b)
}

// setProp gives the namespace path p a dead property.
func (d *davTest) setProp(p, space, local, value string) {
	d.t.Helper()
	pr := state.Prop{PropName: state.PropName{Space: space, Local: local}, InnerXML: []byte(value)}
	if err := d.store.PatchProps(d.t.Context(), p, []state.Prop{pr}, nil); err != nil {
		d.t.Fatal(err)
	}
}

// multistatus is a DAV:multistatus answer, as a client reads it.
type multistatus struct {
	XMLName   xml.Name     `xml:"DAV: multistatus"`
	Responses []msResponse `xml:"DAV: response"`
}

type msResponse struct {
	Href     string `xml:"DAV: href"`
	Status   string `xml:"DAV: status"`
	Propstat []struct {
		Prop struct {
			InnerXML string `xml:",innerxml"`
		} `xml:"DAV: prop"`
		Status string `xml:"DAV: status"`
	} `xml:"DAV: propstat"`
}

// props is the XML of the properties found (status 200) of a response.
func (r msResponse) props() string {
	for _, ps := range r.Propstat {
		if strings.Contains(ps.Status, " 200 ") {
			return ps.Prop.InnerXML
		}
	}
	return ""
}

// parseMultistatus reads a 207 answer, failing the test on anything else.
func parseMultistatus(t *testing.T, w *httptest.ResponseRecorder) multistatus {
	t.Helper()
	if w.Code != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207; body:\n%.500s", w.Code, w.Body.String())
	}
	var ms multistatus
	if err := xml.Unmarshal(w.Body.Bytes(), &ms); err != nil {
		t.Fatalf("the 207 answer is not a multistatus document: %v\n%.500s", err, w.Body.String())
	}
	return ms
}

// hrefs lists the hrefs of a multistatus answer, in order.
func (ms multistatus) hrefs() []string {
	out := make([]string, len(ms.Responses))
	for i, r := range ms.Responses {
		out[i] = r.Href
	}
	return out
}

// response finds the response for href.
func (ms multistatus) response(href string) (msResponse, bool) {
	for _, r := range ms.Responses {
		if r.Href == href {
			return r, true
		}
	}
	return msResponse{}, false
}
