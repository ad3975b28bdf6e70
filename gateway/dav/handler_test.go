package dav

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// step is one request of a handler test and what its answer must be.
type step struct {
	method, target string
	// header holds names and values in turn. In them and in want,
	// {token0}, {token1}… stand for the lock tokens of the test's LOCKs so
	// far, in order, and {etag} for the ETag of the last answer that had one.
	header []string
	body   string
	// user makes the request; "anna" when empty.
	user string
	code int
	// want, when set, must be in the body of the answer.
	want string
	// hrefs, when set, are the hrefs of a 207 answer, in order.
	hrefs []string
	// headers holds names and the values the answer must have for them in
	// turn; an empty value means the answer has no such field.
	headers []string
}

// handlerTest is a sequence of requests to a handler whose backend holds
// the files and folders of setup, and the state of the disk afterwards.
type handlerTest struct {
	name  string
	opts  Options
	setup []string // "path" is a file holding its own path, "path/" a folder
	props []string // namespace paths given a dead property urn:faldone:test origin
	steps []step
	// disk maps paths to their content afterwards, "<folder>" for a folder
	// and "<missing>" for nothing.
	disk map[string]string
}

const (
	lockBody = `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">` +
		`<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>` +
		`<D:owner><D:href>mailto:anna@example.org</D:href></D:owner></D:lockinfo>`
	sharedLockBody = `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">` +
		`<D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`
	propOrigin = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:t="urn:faldone:test">` +
		`<D:prop><t:origin/><D:getcontentlength/><D:resourcetype/></D:prop></D:propfind>`
)

func (tt handlerTest) run(t *testing.T) {
	d := newDAVTest(t, tt.opts, nil)
	for _, p := range tt.setup {
		if dir, ok := strings.CutSuffix(p, "/"); ok {
			d.mkdir(dir)
		} else {
			d.write(p, p)
		}
	}
	for _, p := range tt.props {
		d.setProp(p, testNS, "origin", p)
	}
	var tokens []string
	etag := ""
	for i, s := range tt.steps {
		pairs := []string{"{etag}", etag}
		for j, tok := range tokens {
			pairs = append(pairs, "{token"+strconv.Itoa(j)+"}", tok)
		}
		fill := strings.NewReplacer(pairs...)
		header := []string{userHeader, "anna"}
		if s.user != "" {
			header[1] = s.user
		}
		for _, h := range s.header {
			header = append(header, fill.Replace(h))
		}
		w := d.do(s.method, s.target, s.body, header...)
		what := strconv.Itoa(i) + ": " + s.method + " " + s.target
		if w.Code != s.code {
			t.Fatalf("%s: status %d, want %d; body:\n%.1000s", what, w.Code, s.code, w.Body.String())
		}
		if want := fill.Replace(s.want); !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: the answer lacks %q:\n%.1000s", what, want, w.Body.String())
		}
		if s.hrefs != nil {
			if got := parseMultistatus(t, w).hrefs(); !slices.Equal(got, s.hrefs) {
				t.Errorf("%s: hrefs %q, want %q", what, got, s.hrefs)
			}
		}
		for j := 0; j+1 < len(s.headers); j += 2 {
			if got, want := w.Header().Get(s.headers[j]), fill.Replace(s.headers[j+1]); got != want {
				t.Errorf("%s: %s is %q, want %q", what, s.headers[j], got, want)
			}
		}
		if tok := w.Header().Get("Lock-Token"); tok != "" {
			tokens = append(tokens, strings.Trim(tok, "<>"))
		}
		if e := w.Header().Get("ETag"); e != "" {
			etag = e
		}
	}
	for p, want := range tt.disk {
		if got := d.disk(p); got != want {
			t.Errorf("afterwards %s holds %q, want %q", p, got, want)
		}
	}
}

// disk describes p on the disk behind the backend: its content,
// "<folder>" or "<missing>".
func (d *davTest) disk(p string) string {
	d.t.Helper()
	full := filepath.Join(d.root, filepath.FromSlash(p))
	info, err := os.Lstat(full)
	switch {
	case err != nil:
		return "<missing>"
	case info.IsDir():
		return "<folder>"
	}
	return d.read(p)
}

func runHandlerTests(t *testing.T, tests []handlerTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

func TestHandlerPropfind(t *testing.T) {
	tree := []string{"a.txt", "d/", "d/b.txt", "d/e/", "d/e/c.txt", "nascosto/", "nascosto/x.txt"}
	runHandlerTests(t, []handlerTest{
		{name: "depth 0 of a file", setup: tree, props: []string{"/a.txt"}, steps: []step{
			{method: "PROPFIND", target: "/a.txt", header: []string{"Depth", "0"}, body: propOrigin, code: 207,
				hrefs: []string{"/a.txt"}, want: `<getcontentlength>5</getcontentlength>`},
			{method: "PROPFIND", target: "/a.txt", header: []string{"Depth", "0"}, body: propOrigin, code: 207,
				want: `>/a.txt</`},
		}},
		{name: "depth 0 of a folder", setup: tree, steps: []step{
			{method: "PROPFIND", target: "/d/", header: []string{"Depth", "0"}, code: 207,
				hrefs: []string{"/d/"}, want: `<resourcetype><collection/></resourcetype>`},
			{method: "PROPFIND", target: "/d", header: []string{"Depth", "0"}, code: 207, hrefs: []string{"/d/"}},
		}},
		{name: "depth 1 of a folder", setup: tree, props: []string{"/d", "/d/e"}, steps: []step{
			{method: "PROPFIND", target: "/d/", header: []string{"Depth", "1"}, body: propOrigin, code: 207,
				hrefs: []string{"/d/", "/d/b.txt", "/d/e/"}, want: `>/d/e</`},
		}},
		{name: "depth 1 of the root leaves out what the person may not see", setup: tree, steps: []step{
			{method: "PROPFIND", target: "/", header: []string{"Depth", "1"}, code: 207,
				hrefs: []string{"/", "/a.txt", "/d/"}},
		}},
		{name: "no Depth is infinity, refused by default", setup: tree, steps: []step{
			{method: "PROPFIND", target: "/d/", code: http.StatusForbidden, want: "propfind-finite-depth"},
			{method: "PROPFIND", target: "/d/", header: []string{"Depth", "infinity"}, code: http.StatusForbidden},
		}},
		{name: "depth infinity when allowed", opts: Options{AllowInfiniteDepth: true}, setup: tree, props: []string{"/d/e/c.txt"}, steps: []step{
			{method: "PROPFIND", target: "/d/", header: []string{"Depth", "infinity"}, body: propOrigin, code: 207,
				hrefs: []string{"/d/", "/d/b.txt", "/d/e/", "/d/e/c.txt"}, want: `>/d/e/c.txt</`},
		}},
		{name: "bad Depth", setup: tree, steps: []step{
			{method: "PROPFIND", target: "/d/", header: []string{"Depth", "2"}, code: http.StatusBadRequest},
		}},
		{name: "missing", setup: tree, steps: []step{
			{method: "PROPFIND", target: "/manca", header: []string{"Depth", "0"}, code: http.StatusNotFound},
			{method: "PROPFIND", target: "/d/manca/", header: []string{"Depth", "1"}, code: http.StatusNotFound},
		}},
		{name: "bad body", setup: tree, steps: []step{
			{method: "PROPFIND", target: "/d/", header: []string{"Depth", "1"}, body: `<D:propfind xmlns:D="DAV:">`, code: http.StatusBadRequest},
		}},
	})
}

func TestHandlerPutGet(t *testing.T) {
	runHandlerTests(t, []handlerTest{
		{name: "new, replaced, read", setup: []string{"d/"}, steps: []step{
			{method: "PUT", target: "/d/nuovo.txt", body: "prima", code: http.StatusCreated},
			{method: "GET", target: "/d/nuovo.txt", code: http.StatusOK, want: "prima"},
			{method: "PUT", target: "/d/nuovo.txt", body: "seconda", code: http.StatusNoContent},
			{method: "GET", target: "/d/nuovo.txt", code: http.StatusOK, want: "seconda"},
			{method: "GET", target: "/d/nuovo.txt", header: []string{"Range", "bytes=1-3"}, code: http.StatusPartialContent, want: "eco"},
			{method: "HEAD", target: "/d/nuovo.txt", code: http.StatusOK},
		}, disk: map[string]string{"d/nuovo.txt": "seconda"}},
		{name: "conditions", setup: []string{"a.txt"}, steps: []step{
			{method: "PUT", target: "/a.txt", body: "uno", code: http.StatusNoContent},
			{method: "PUT", target: "/a.txt", header: []string{"If-Match", `"altro"`}, body: "due", code: http.StatusPreconditionFailed},
			{method: "PUT", target: "/a.txt", header: []string{"If-Match", "{etag}"}, body: "due", code: http.StatusNoContent},
			{method: "PUT", target: "/b.txt", header: []string{"If-None-Match", "*"}, body: "b", code: http.StatusCreated},
			{method: "PUT", target: "/b.txt", header: []string{"If-None-Match", "*"}, body: "c", code: http.StatusPreconditionFailed},
			{method: "GET", target: "/b.txt", header: []string{"If-None-Match", "{etag}"}, code: http.StatusNotModified},
		}, disk: map[string]string{"a.txt": "due", "b.txt": "b"}},
		{name: "where a file cannot go", setup: []string{"d/", "f.txt"}, steps: []step{
			{method: "PUT", target: "/manca/x.txt", body: "x", code: http.StatusConflict},
			{method: "PUT", target: "/f.txt/x.txt", body: "x", code: http.StatusConflict},
			{method: "PUT", target: "/d", body: "x", code: http.StatusMethodNotAllowed},
			{method: "PUT", target: "/d/", body: "x", code: http.StatusMethodNotAllowed},
			{method: "PUT", target: "/", body: "x", code: http.StatusMethodNotAllowed},
			{method: "PUT", target: "/d/x.txt", header: []string{"Content-Range", "bytes 0-0/2"}, body: "x", code: http.StatusBadRequest},
		}, disk: map[string]string{"d": "<folder>", "manca": "<missing>", "f.txt": "f.txt"}},
		{name: "reading what is not a file", setup: []string{"d/"}, steps: []step{
			{method: "GET", target: "/manca.txt", code: http.StatusNotFound},
			{method: "GET", target: "/d/", code: http.StatusMethodNotAllowed},
		}},
	})
}

func TestHandlerMkcol(t *testing.T) {
	runHandlerTests(t, []handlerTest{
		{name: "new, existing, nested", setup: []string{"f.txt"}, steps: []step{
			{method: "MKCOL", target: "/nuova/", code: http.StatusCreated},
			{method: "MKCOL", target: "/nuova/", code: http.StatusMethodNotAllowed},
			{method: "MKCOL", target: "/nuova/sotto", code: http.StatusCreated},
			{method: "MKCOL", target: "/f.txt", code: http.StatusMethodNotAllowed},
			{method: "MKCOL", target: "/manca/sotto/", code: http.StatusConflict},
			{method: "MKCOL", target: "/con-corpo/", body: "x", code: http.StatusUnsupportedMediaType},
		}, disk: map[string]string{"nuova/sotto": "<folder>", "f.txt": "f.txt", "manca": "<missing>", "con-corpo": "<missing>"}},
	})
}

func TestHandlerCopyMove(t *testing.T) {
	tree := []string{"a.txt", "b.txt", "d/", "d/c.txt", "d/e/", "d/e/f.txt", "g/", "g/vecchio.txt"}
	dest := func(p string) []string { return []string{"Destination", "http://example.com" + p} }
	with := func(h []string, more ...string) []string { return append(slices.Clone(h), more...) }
	runHandlerTests(t, []handlerTest{
		{name: "copy a file", setup: tree, props: []string{"/a.txt"}, steps: []step{
			{method: "COPY", target: "/a.txt", header: dest("/copia.txt"), code: http.StatusCreated},
			{method: "PROPFIND", target: "/copia.txt", header: []string{"Depth", "0"}, body: propOrigin, code: 207, want: `>/a.txt</`},
		}, disk: map[string]string{"a.txt": "a.txt", "copia.txt": "a.txt"}},
		{name: "copy onto a file, Overwrite F then T", setup: tree, steps: []step{
			{method: "COPY", target: "/a.txt", header: with(dest("/b.txt"), "Overwrite", "F"), code: http.StatusPreconditionFailed},
			{method: "COPY", target: "/a.txt", header: with(dest("/b.txt"), "Overwrite", "T"), code: http.StatusNoContent},
		}, disk: map[string]string{"a.txt": "a.txt", "b.txt": "a.txt"}},
		{name: "copy a folder, whole and at depth 0", setup: tree, steps: []step{
			{method: "COPY", target: "/d/", header: dest("/d2/"), code: http.StatusCreated},
			{method: "COPY", target: "/d/", header: with(dest("/d3/"), "Depth", "0"), code: http.StatusCreated},
		}, disk: map[string]string{"d2/c.txt": "d/c.txt", "d2/e/f.txt": "d/e/f.txt", "d3": "<folder>", "d3/c.txt": "<missing>", "d/e/f.txt": "d/e/f.txt"}},
		{name: "copy a folder onto a folder replaces it", setup: tree, steps: []step{
			{method: "COPY", target: "/d/", header: with(dest("/g/"), "Overwrite", "F"), code: http.StatusPreconditionFailed},
			{method: "COPY", target: "/d/", header: dest("/g/"), code: http.StatusNoContent},
		}, disk: map[string]string{"g/c.txt": "d/c.txt", "g/vecchio.txt": "<missing>", "d/c.txt": "d/c.txt"}},
		{name: "move a file", setup: tree, props: []string{"/a.txt"}, steps: []step{
			{method: "MOVE", target: "/a.txt", header: dest("/d/spostato.txt"), code: http.StatusCreated},
			{method: "PROPFIND", target: "/d/spostato.txt", header: []string{"Depth", "0"}, body: propOrigin, code: 207, want: `>/a.txt</`},
			{method: "PROPFIND", target: "/a.txt", header: []string{"Depth", "0"}, code: http.StatusNotFound},
		}, disk: map[string]string{"a.txt": "<missing>", "d/spostato.txt": "a.txt"}},
		{name: "move onto a file, Overwrite F then T", setup: tree, steps: []step{
			{method: "MOVE", target: "/a.txt", header: with(dest("/b.txt"), "Overwrite", "F"), code: http.StatusPreconditionFailed},
			{method: "MOVE", target: "/a.txt", header: dest("/b.txt"), code: http.StatusNoContent},
		}, disk: map[string]string{"a.txt": "<missing>", "b.txt": "a.txt"}},
		{name: "move a folder onto a folder", setup: tree, steps: []step{
			{method: "MOVE", target: "/d/", header: dest("/g/"), code: http.StatusNoContent},
		}, disk: map[string]string{"d": "<missing>", "g/e/f.txt": "d/e/f.txt", "g/vecchio.txt": "<missing>"}},
		{name: "refused", setup: tree, steps: []step{
			{method: "COPY", target: "/a.txt", code: http.StatusBadRequest},
			{method: "COPY", target: "/a.txt", header: dest("/manca/a.txt"), code: http.StatusConflict},
			{method: "COPY", target: "/a.txt", header: dest("/a.txt"), code: http.StatusForbidden},
			{method: "COPY", target: "/d/", header: dest("/d/e/dentro/"), code: http.StatusForbidden},
			{method: "COPY", target: "/a.txt", header: []string{"Destination", "http://altrove.example.org/x.txt"}, code: http.StatusBadGateway},
			{method: "COPY", target: "/a.txt", header: with(dest("/x.txt"), "Overwrite", "forse"), code: http.StatusBadRequest},
			{method: "MOVE", target: "/d/", header: with(dest("/x/"), "Depth", "0"), code: http.StatusBadRequest},
			{method: "MOVE", target: "/manca.txt", header: dest("/x.txt"), code: http.StatusNotFound},
		}, disk: map[string]string{"a.txt": "a.txt", "x.txt": "<missing>", "x": "<missing>", "d/e/dentro": "<missing>"}},
	})
}

func TestHandlerDelete(t *testing.T) {
	tree := []string{"a.txt", "d/", "d/c.txt", "d/e/", "d/e/f.txt"}
	runHandlerTests(t, []handlerTest{
		{name: "a file and a folder with what it holds", setup: tree, props: []string{"/a.txt", "/d/e/f.txt"}, steps: []step{
			{method: "DELETE", target: "/a.txt", code: http.StatusNoContent},
			{method: "DELETE", target: "/d/", code: http.StatusNoContent},
			{method: "DELETE", target: "/a.txt", code: http.StatusNotFound},
			// Properties went with them: new files in their place have none.
			{method: "PUT", target: "/a.txt", body: "nuovo", code: http.StatusCreated},
			{method: "PROPFIND", target: "/a.txt", header: []string{"Depth", "0"}, body: propOrigin, code: 207,
				want: `<status>HTTP/1.1 404 Not Found</status>`},
		}, disk: map[string]string{"a.txt": "nuovo", "d": "<missing>"}},
		{name: "refused", setup: tree, steps: []step{
			{method: "DELETE", target: "/", code: http.StatusForbidden},
			{method: "DELETE", target: "/d/", header: []string{"Depth", "0"}, code: http.StatusBadRequest},
		}, disk: map[string]string{"d/e/f.txt": "d/e/f.txt"}},
	})
}

func TestHandlerLocks(t *testing.T) {
	tree := []string{"a.txt", "b.txt", "d/", "d/c.txt"}
	runHandlerTests(t, []handlerTest{
		{name: "a lock keeps out whoever does not submit it", setup: tree, steps: []step{
			{method: "LOCK", target: "/a.txt", header: []string{"Depth", "0", "Timeout", "Second-600"}, body: lockBody, code: http.StatusOK,
				want: "<D:timeout>Second-600</D:timeout>"},
			{method: "PUT", target: "/a.txt", body: "senza", code: http.StatusLocked, want: "lock-token-submitted"},
			{method: "DELETE", target: "/a.txt", code: http.StatusLocked},
			{method: "MOVE", target: "/a.txt", header: []string{"Destination", "/x.txt"}, code: http.StatusLocked},
			{method: "COPY", target: "/b.txt", header: []string{"Destination", "/a.txt"}, code: http.StatusLocked},
			{method: "PUT", target: "/a.txt", header: []string{"If", "(<urn:uuid:00000000-0000-4000-8000-000000000000>)"}, body: "falso", code: http.StatusPreconditionFailed},
			{method: "PUT", target: "/a.txt", header: []string{"If", "(<{token0}>)"}, body: "con", code: http.StatusNoContent},
			// Another person may not use the token, nor end the lock.
			{method: "PUT", target: "/a.txt", user: "bruno", header: []string{"If", "(<{token0}>)"}, body: "bruno", code: http.StatusLocked},
			{method: "UNLOCK", target: "/a.txt", user: "bruno", header: []string{"Lock-Token", "<{token0}>"}, code: http.StatusForbidden},
			// A second exclusive lock conflicts; a refresh renews the first.
			{method: "LOCK", target: "/a.txt", user: "bruno", body: lockBody, code: http.StatusLocked},
			{method: "LOCK", target: "/a.txt", header: []string{"If", "(<{token0}>)", "Timeout", "Second-60"}, code: http.StatusOK,
				want: "<D:timeout>Second-60</D:timeout>"},
			{method: "UNLOCK", target: "/a.txt", header: []string{"Lock-Token", "<urn:uuid:00000000-0000-4000-8000-000000000000>"}, code: http.StatusConflict},
			{method: "UNLOCK", target: "/a.txt", header: []string{"Lock-Token", "<{token0}>"}, code: http.StatusNoContent},
			{method: "PUT", target: "/a.txt", user: "bruno", body: "libero", code: http.StatusNoContent},
		}, disk: map[string]string{"a.txt": "libero", "b.txt": "b.txt", "x.txt": "<missing>"}},
		{name: "a folder's lock covers its members", setup: tree, steps: []step{
			{method: "LOCK", target: "/d/", body: lockBody, code: http.StatusOK},
			{method: "PUT", target: "/d/nuovo.txt", body: "x", code: http.StatusLocked},
			{method: "PUT", target: "/d/c.txt", body: "x", code: http.StatusLocked},
			{method: "MKCOL", target: "/d/sotto/", code: http.StatusLocked},
			{method: "PUT", target: "/d/nuovo.txt", header: []string{"If", "</d/> (<{token0}>)"}, body: "x", code: http.StatusCreated},
			{method: "PROPFIND", target: "/d/c.txt", header: []string{"Depth", "0"}, code: 207, want: "<D:lockroot><D:href>/d</D:href>"},
			{method: "PUT", target: "/b.txt", body: "fuori", code: http.StatusNoContent},
		}, disk: map[string]string{"d/nuovo.txt": "x", "d/c.txt": "d/c.txt", "d/sotto": "<missing>", "b.txt": "fuori"}},
		{name: "shared locks", setup: tree, steps: []step{
			{method: "LOCK", target: "/a.txt", body: sharedLockBody, code: http.StatusOK},
			{method: "LOCK", target: "/a.txt", user: "bruno", body: sharedLockBody, code: http.StatusOK},
			{method: "LOCK", target: "/a.txt", user: "carla", body: lockBody, code: http.StatusLocked},
			{method: "PROPFIND", target: "/a.txt", header: []string{"Depth", "0"}, code: 207, want: "{token1}"},
			{method: "UNLOCK", target: "/a.txt", header: []string{"Lock-Token", "<{token0}>"}, code: http.StatusNoContent},
			{method: "UNLOCK", target: "/a.txt", user: "bruno", header: []string{"Lock-Token", "<{token1}>"}, code: http.StatusNoContent},
			{method: "LOCK", target: "/a.txt", user: "carla", body: lockBody, code: http.StatusOK},
		}, disk: map[string]string{"a.txt": "a.txt"}},
		{name: "a lock on nothing makes an empty file", setup: tree, steps: []step{
			{method: "LOCK", target: "/d/nuovo.docx", body: lockBody, code: http.StatusCreated},
			{method: "PUT", target: "/d/nuovo.docx", header: []string{"If", "(<{token0}>)"}, body: "testo", code: http.StatusNoContent},
			{method: "LOCK", target: "/manca/nuovo.docx", body: lockBody, code: http.StatusConflict},
		}, disk: map[string]string{"d/nuovo.docx": "testo", "manca": "<missing>"}},
		{name: "If with an entity tag", setup: tree, steps: []step{
			{method: "PUT", target: "/a.txt", body: "uno", code: http.StatusNoContent},
			{method: "PUT", target: "/a.txt", header: []string{"If", `(["altro"])`}, body: "due", code: http.StatusPreconditionFailed},
			{method: "PUT", target: "/a.txt", header: []string{"If", "([{etag}])"}, body: "due", code: http.StatusNoContent},
			{method: "PUT", target: "/a.txt", header: []string{"If", "(Not [{etag}])"}, body: "tre", code: http.StatusPreconditionFailed},
			{method: "PUT", target: "/a.txt", header: []string{"If", "(<urn:x"}, body: "tre", code: http.StatusBadRequest},
		}, disk: map[string]string{"a.txt": "due"}},
		{name: "refused", setup: tree, steps: []step{
			{method: "LOCK", target: "/", body: lockBody, code: http.StatusForbidden},
			{method: "LOCK", target: "/a.txt", code: http.StatusBadRequest},
			{method: "UNLOCK", target: "/a.txt", code: http.StatusBadRequest},
			{method: "LOCK", target: "/a.txt", body: `<D:lockinfo xmlns:D="DAV:"/>`, code: http.StatusBadRequest},
		}},
	})
}

func TestHandlerRefusedPaths(t *testing.T) {
	tree := []string{"a.txt", "sola-lettura/", "sola-lettura/r.txt", "nascosto/", "nascosto/h.txt"}
	runHandlerTests(t, []handlerTest{
		{name: "read-only", setup: tree, steps: []step{
			{method: "GET", target: "/sola-lettura/r.txt", code: http.StatusOK, want: "sola-lettura/r.txt"},
			{method: "PROPFIND", target: "/sola-lettura/", header: []string{"Depth", "1"}, code: 207,
				hrefs: []string{"/sola-lettura/", "/sola-lettura/r.txt"}},
			{method: "PUT", target: "/sola-lettura/r.txt", body: "x", code: http.StatusForbidden},
			{method: "PUT", target: "/sola-lettura/nuovo.txt", body: "x", code: http.StatusForbidden},
			{method: "MKCOL", target: "/sola-lettura/nuova/", code: http.StatusForbidden},
			{method: "DELETE", target: "/sola-lettura/r.txt", code: http.StatusForbidden},
			{method: "PROPPATCH", target: "/sola-lettura/r.txt", body: `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">1</x></D:prop></D:set></D:propertyupdate>`,
				code: http.StatusForbidden},
			{method: "LOCK", target: "/sola-lettura/r.txt", body: lockBody, code: http.StatusForbidden},
			{method: "MOVE", target: "/sola-lettura/r.txt", header: []string{"Destination", "/mosso.txt"}, code: http.StatusForbidden},
			{method: "COPY", target: "/a.txt", header: []string{"Destination", "/sola-lettura/a.txt"}, code: http.StatusForbidden},
			{method: "COPY", target: "/sola-lettura/r.txt", header: []string{"Destination", "/copia.txt"}, code: http.StatusCreated},
		}, disk: map[string]string{"sola-lettura/r.txt": "sola-lettura/r.txt", "sola-lettura/nuovo.txt": "<missing>",
			"sola-lettura/nuova": "<missing>", "sola-lettura/a.txt": "<missing>", "mosso.txt": "<missing>", "copia.txt": "sola-lettura/r.txt"}},
		{name: "hidden", setup: tree, steps: []step{
			{method: "GET", target: "/nascosto/h.txt", code: http.StatusNotFound},
			{method: "PROPFIND", target: "/nascosto/", header: []string{"Depth", "0"}, code: http.StatusNotFound},
			{method: "PUT", target: "/nascosto/h.txt", body: "x", code: http.StatusNotFound},
			{method: "DELETE", target: "/nascosto/", code: http.StatusNotFound},
			{method: "COPY", target: "/nascosto/h.txt", header: []string{"Destination", "/copia.txt"}, code: http.StatusNotFound},
			{method: "COPY", target: "/a.txt", header: []string{"Destination", "/nascosto/a.txt"}, code: http.StatusNotFound},
			{method: "PROPFIND", target: "/", header: []string{"Depth", "1"}, code: 207, hrefs: []string{"/", "/a.txt", "/sola-lettura/"}},
		}, disk: map[string]string{"nascosto/h.txt": "nascosto/h.txt", "copia.txt": "<missing>", "nascosto/a.txt": "<missing>"}},
		{name: "names that are no paths", setup: tree, steps: []step{
			{method: "GET", target: "/a/../a.txt", code: http.StatusBadRequest},
			{method: "PUT", target: "/a%00b.txt", body: "x", code: http.StatusBadRequest},
			{method: "PUT", target: "/" + strings.Repeat("n", 256), body: "x", code: http.StatusBadRequest},
			{method: "COPY", target: "/a.txt", header: []string{"Destination", "/../a.txt"}, code: http.StatusBadRequest},
		}, disk: map[string]string{"a.txt": "a.txt"}},
	})
}
