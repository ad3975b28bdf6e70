package dav

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// TestClosedDossier: nothing inside a closed dossier changes, by any
// method, and a folder holding one is not moved or deleted; it still reads.
func TestClosedDossier(t *testing.T) {
	dest := func(p string) []string { return []string{"Destination", "http://example.com" + p} }
	const proppatch = `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:t="urn:faldone:test">` +
		`<D:set><D:prop><t:x>1</t:x></D:prop></D:set></D:propertyupdate>`
	tests := []step{
		{method: "GET", target: "/anno/chiuso/domanda.pdf", code: http.StatusOK},
		{method: "PROPFIND", target: "/anno/chiuso/", header: []string{"Depth", "1"}, code: 207},
		{method: "PUT", target: "/anno/chiuso/domanda.pdf", body: "altro", code: http.StatusForbidden, want: "dossier-closed"},
		{method: "PUT", target: "/anno/chiuso/nuovo.pdf", body: "nuovo", code: http.StatusForbidden, want: "/anno/chiuso/"},
		{method: "MKCOL", target: "/anno/chiuso/sotto/", code: http.StatusForbidden},
		{method: "DELETE", target: "/anno/chiuso/domanda.pdf", code: http.StatusForbidden},
		{method: "DELETE", target: "/anno/chiuso/", code: http.StatusForbidden},
		{method: "DELETE", target: "/anno/", code: http.StatusForbidden},
		{method: "MOVE", target: "/anno/chiuso/domanda.pdf", header: dest("/fuori.pdf"), code: http.StatusForbidden},
		{method: "MOVE", target: "/aperto/a.pdf", header: dest("/anno/chiuso/a.pdf"), code: http.StatusForbidden},
		{method: "MOVE", target: "/anno/", header: dest("/altro-anno/"), code: http.StatusForbidden},
		{method: "COPY", target: "/aperto/a.pdf", header: dest("/anno/chiuso/a.pdf"), code: http.StatusForbidden},
		{method: "PROPPATCH", target: "/anno/chiuso/domanda.pdf", body: proppatch, code: http.StatusForbidden},
		{method: "LOCK", target: "/anno/chiuso/domanda.pdf", body: lockBody, code: http.StatusForbidden},
		// Outside it, and a copy out of it, all goes on.
		{method: "COPY", target: "/anno/chiuso/domanda.pdf", header: dest("/aperto/copia.pdf"), code: http.StatusCreated},
		{method: "PUT", target: "/anno/altro.pdf", body: "x", code: http.StatusCreated},
	}
	d := newDAVTest(t, Options{}, nil)
	for _, p := range []string{"anno", "anno/chiuso", "aperto"} {
		d.mkdir(p)
	}
	d.write("anno/chiuso/domanda.pdf", "domanda")
	d.write("aperto/a.pdf", "a")
	if err := d.store.CloseDossier(t.Context(), state.ClosedDossier{Path: "/anno/chiuso", By: "anna", Reason: "fine lavori", Closed: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for i, s := range tests {
		w := d.do(s.method, s.target, s.body, append([]string{userHeader, "anna"}, s.header...)...)
		if w.Code != s.code {
			t.Errorf("%d: %s %s = %d, want %d\n%.500s", i, s.method, s.target, w.Code, s.code, w.Body.String())
			continue
		}
		if s.want != "" && !strings.Contains(w.Body.String(), s.want) {
			t.Errorf("%d: %s %s: the answer lacks %q: %s", i, s.method, s.target, s.want, w.Body.String())
		}
	}
	if got := d.disk("anno/chiuso/domanda.pdf"); got != "domanda" {
		t.Errorf("the closed dossier's file holds %q", got)
	}
}
