package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/state"
)

// storeOut is a failure of the state store, with what must never reach a
// browser: the driver's words and a path of the host.
var storeOut = errors.New("pq: connection refused at /var/run/postgresql/.s.PGSQL.5432")

// errorPages are the pages of two Comuni, of which the people of roles see
// guastalla only; "rotto" is a person whose rights cannot be read.
func errorPages(t *testing.T) *pages {
	p := newPages(t, func(_ *pages, c *Config) {
		c.Comuni = []Comune{{ID: "guastalla", Name: "Guastalla"}, {ID: "luzzara", Name: "Luzzara"}}
		policy := c.Policy
		c.Policy = func(ctx context.Context, s state.Session) (Decider, error) {
			if s.Person == "rotto" {
				return nil, storeOut
			}
			return policy(ctx, s)
		}
	})
	p.put("editore", "/guastalla/2019/PC-2019-0042/domanda.pdf", "%PDF domanda")
	return p
}

// TestMessagePages: whatever goes wrong, the page says it in Italian, with
// the signed-in header (the person's name and "Esci") and the way back to
// the nearest folder that exists and the person may open, or to the
// personal page; without a session, the sign-in's header and the way to it.
// Never an error's text or a path of the host, and never kept by a cache.
func TestMessagePages(t *testing.T) {
	p := errorPages(t)
	anon := &person{p: p, cookie: &http.Cookie{Name: "altro", Value: "x"}}
	const dossier = "/guastalla/2019/PC-2019-0042"
	for _, tt := range []struct {
		name, who, method, target string
		form                      url.Values
		status                    int
		title, back, backText     string
	}{
		{"unknown page", "editore", "GET", "/_/qualsiasi-cosa", nil, 404, "Pagina non trovata", "/_/profilo", "Torna all'area personale"},
		{"unknown page below another", "editore", "GET", "/_/profilo/altro", nil, 404, "Pagina non trovata", "/_/profilo", "Torna all'area personale"},
		{"unknown page, signed out", "", "GET", "/_/qualsiasi-cosa", nil, 404, "Pagina non trovata", "/_/accedi", "Torna alla pagina di accesso"},
		{"a page opened the wrong way", "editore", "GET", "/_/esci", nil, 405, "Operazione non consentita", "/_/profilo", ""},
		{"the static files' folder", "editore", "GET", "/_/static/", nil, 404, "Pagina non trovata", "/_/profilo", ""},
		{"a folder of static files", "editore", "GET", "/_/static/bi/", nil, 404, "Pagina non trovata", "/_/profilo", ""},
		{"a folder of static files, no slash", "", "GET", "/_/static/bi", nil, 404, "Pagina non trovata", "/_/accedi", ""},
		{"a missing static file", "", "GET", "/_/static/manca.css", nil, 404, "Pagina non trovata", "/_/accedi", ""},
		{"a missing folder", "editore", "GET", "/_/archivio/guastalla/2019/manca/", nil, 404, "Cartella non trovata", "/_/archivio/guastalla/2019/", "Torna alla cartella 2019"},
		{"a missing folder deep down", "editore", "GET", "/_/archivio" + dossier + "/a/b/c/d/", nil, 404, "Cartella non trovata", "/_/archivio" + dossier + "/", "Torna alla cartella PC-2019-0042"},
		{"a missing folder of a Comune", "editore", "GET", "/_/archivio/guastalla/1999/", nil, 404, "Cartella non trovata", "/_/archivio/guastalla/", "Torna alla cartella Guastalla"},
		{"a Comune not shown", "editore", "GET", "/_/archivio/luzzara/2019/", nil, 404, "Cartella non trovata", "/_/archivio/", "Torna all'archivio"},
		{"a missing file", "editore", "GET", "/_/scheda" + dossier + "/manca.pdf", nil, 404, "File non trovato", "/_/archivio" + dossier + "/", ""},
		{"a file in a missing folder", "editore", "GET", "/_/scheda/guastalla/2019/manca/manca.pdf", nil, 404, "File non trovato", "/_/archivio/guastalla/2019/", ""},
		{"a ZIP of a missing folder", "editore", "GET", "/_/zip/guastalla/2019/manca", nil, 404, "Cartella non trovata", "/_/archivio/guastalla/2019/", ""},
		{"a change not allowed", "lettore", "POST", "/_/modifica" + dossier + "/domanda.pdf", url.Values{"azione": {"elimina"}}, 403, "Operazione non consentita", "/_/archivio" + dossier + "/", ""},
		{"a new folder not allowed", "lettore", "POST", "/_/modifica" + dossier, url.Values{"azione": {"cartella"}, "nome": {"nuova"}}, 403, "Operazione non consentita", "/_/archivio" + dossier + "/", ""},
		{"a bin not allowed", "lettore", "GET", "/_/cestino/guastalla/", nil, 403, "", "/_/archivio/guastalla/", ""},
		{"the state store out", "rotto", "GET", "/_/archivio/guastalla/2019/", nil, 503, "Servizio non disponibile", "/_/archivio/guastalla/", ""},
		{"the state store out, a file", "rotto", "GET", "/_/scheda" + dossier + "/domanda.pdf", nil, 503, "Servizio non disponibile", "/_/archivio" + dossier + "/", ""},
		{"the state store out, the start", "rotto", "GET", "/_/archivio/", nil, 503, "Servizio non disponibile", "/_/profilo", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := anon
			if tt.who != "" {
				b = p.signIn(tt.who)
			}
			w := b.do(tt.method, tt.target, tt.form, nil)
			body := w.Body.String()
			if w.Code != tt.status {
				t.Fatalf("%s %s: %d, want %d\n%s", tt.method, tt.target, w.Code, tt.status, body)
			}
			if tt.title != "" && !strings.Contains(body, "<h1>"+tt.title+"</h1>") {
				t.Errorf("the page is not titled %q:\n%s", tt.title, body)
			}
			back := `<a href="` + tt.back + `" id="torna">`
			if tt.backText != "" {
				back += html.EscapeString(tt.backText) + "</a>"
			}
			if !strings.Contains(body, back) {
				t.Errorf("the page does not lead back with %s:\n%s", back, body)
			}
			signedIn := strings.Contains(body, `id="esci"`) && strings.Contains(body, ">"+tt.who+"</a>")
			if tt.who != "" && !signedIn {
				t.Errorf("the page lacks the session's header (name and Esci):\n%s", body)
			}
			if tt.who == "" && (strings.Contains(body, `id="esci"`) || !strings.Contains(body, `id="vai-accedi"`)) {
				t.Errorf("a page without a session has not the sign-in's header:\n%s", body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			for _, leak := range []string{"pq:", "/var/run", "connection refused", "Not Found", "Method Not Allowed"} {
				if strings.Contains(body, leak) {
					t.Errorf("the page shows %q:\n%s", leak, body)
				}
			}
			if tt.status == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("405 with Allow %q, want POST", w.Header().Get("Allow"))
			}
		})
	}
}

// TestStaticFiles: the pages' files are served, and kept by browsers; a
// folder of them is not listed.
func TestStaticFiles(t *testing.T) {
	p := errorPages(t)
	anon := &person{p: p, cookie: &http.Cookie{Name: "altro", Value: "x"}}
	for _, tt := range []struct {
		target, ctype string
	}{
		{"/_/static/faldone.css?v=1", "text/css; charset=utf-8"},
		{"/_/static/faldone.svg", "image/svg+xml"},
		{"/_/static/bi/bootstrap-italia.min.css", "text/css; charset=utf-8"},
	} {
		w := anon.do("GET", tt.target, nil, nil)
		if w.Code != 200 || w.Header().Get("Content-Type") != tt.ctype || w.Body.Len() == 0 {
			t.Errorf("GET %s: %d %q, %d bytes", tt.target, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
		if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q", tt.target, cc)
		}
	}
	for _, target := range []string{"/_/static/", "/_/static/bi/", "/_/static/bi", "/_/static/bi/fonts/"} {
		w := anon.do("GET", target, nil, nil)
		// http.FileServer's listing is a <pre> of relative links.
		if body := w.Body.String(); w.Code != http.StatusNotFound || strings.Contains(body, "<pre>") || !strings.Contains(body, "<h1>Pagina non trovata</h1>") {
			t.Errorf("GET %s: %d, want 404 without a listing\n%s", target, w.Code, w.Body.String())
		}
	}
}

// TestStaticFilesCompressed: the sheets and scripts go gzipped to a
// browser that accepts it, whole to one that does not; fonts never.
func TestStaticFilesCompressed(t *testing.T) {
	p := errorPages(t)
	anon := &person{p: p, cookie: &http.Cookie{Name: "altro", Value: "x"}}
	plain := anon.do("GET", "/_/static/bi/bootstrap-italia.bundle.min.js", nil, nil)
	for _, tt := range []struct {
		target, accept string
		gzipped        bool
	}{
		{"/_/static/bi/bootstrap-italia.bundle.min.js", "gzip, deflate, br", true},
		{"/_/static/bi/bootstrap-italia.min.css", "br;q=1.0, gzip;q=0.8", true},
		{"/_/static/bi/bootstrap-italia.bundle.min.js", "", false},
		{"/_/static/bi/bootstrap-italia.bundle.min.js", "gzip;q=0", false},
		{"/_/static/bi/fonts/titillium-web-v10-latin-ext_latin-regular.woff2", "gzip", false},
	} {
		w := anon.do("GET", tt.target, nil, map[string]string{"Accept-Encoding": tt.accept})
		enc := w.Header().Get("Content-Encoding")
		if w.Code != 200 || (enc == "gzip") != tt.gzipped || !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
			t.Errorf("GET %s with %q: %d, Content-Encoding %q, Vary %q", tt.target, tt.accept, w.Code, enc, w.Header().Get("Vary"))
			continue
		}
		if !tt.gzipped || tt.target != "/_/static/bi/bootstrap-italia.bundle.min.js" {
			continue
		}
		zr, err := gzip.NewReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(b, plain.Body.Bytes()) || w.Body.Len() > 0 {
			t.Errorf("the gzipped script: %v, %d bytes unzipped, %d whole", err, len(b), plain.Body.Len())
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("the gzipped script's type %q", ct)
		}
	}
}

// TestFavicon: the icon is the pages' SVG, with its type, kept a day.
func TestFavicon(t *testing.T) {
	p := errorPages(t)
	for _, method := range []string{"GET", "HEAD"} {
		w := httptest.NewRecorder()
		p.h.Favicon(w, httptest.NewRequest(method, "/favicon.ico", nil))
		if w.Code != 200 || w.Header().Get("Content-Type") != "image/svg+xml" || w.Header().Get("Cache-Control") != "public, max-age=86400" {
			t.Errorf("%s /favicon.ico: %d %v", method, w.Code, w.Header())
		}
		if method == "GET" && !strings.Contains(w.Body.String(), "<svg") {
			t.Errorf("GET /favicon.ico is not the SVG: %.100s", w.Body.String())
		}
	}
}

// TestDrivePage: a path of the drive that fails, opened by a person's
// browser, gets a page with the session's header and the way back; drive
// clients, scripts, frames and other methods get the plain status.
func TestDrivePage(t *testing.T) {
	p := errorPages(t)
	ed := p.signIn("editore")
	const missing = "/guastalla/2019/PC-2019-0042/manca.pdf"
	nav := map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html,application/xhtml+xml"}
	for _, tt := range []struct {
		name, method, target string
		header               map[string]string
		status               int
		identified           bool // the authentication let the request through
		page                 bool
		title, back          string
	}{
		{"a browser, a missing file", "GET", missing, nav, 404, true, true, "File o cartella non trovati", "/_/archivio/guastalla/2019/PC-2019-0042/"},
		{"a browser, a missing folder", "GET", "/guastalla/2019/manca/", nav, 404, true, true, "File o cartella non trovati", "/_/archivio/guastalla/2019/"},
		{"a browser of old", "GET", missing, map[string]string{"Accept": "text/html"}, 404, true, true, "File o cartella non trovati", "/_/archivio/guastalla/2019/PC-2019-0042/"},
		{"a browser, HEAD", "HEAD", missing, nav, 404, true, true, "", ""},
		{"a browser, forbidden", "GET", "/guastalla/2019/PC-2019-0042/domanda.pdf", nav, 403, true, true, "Accesso non consentito", "/_/archivio/guastalla/2019/PC-2019-0042/"},
		{"a browser, a failure", "GET", "/guastalla/2019/PC-2019-0042/domanda.pdf", nav, 500, true, true, "Errore del servizio", "/_/archivio/guastalla/2019/PC-2019-0042/"},
		{"a browser, storage out", "GET", "/guastalla/2019/PC-2019-0042/domanda.pdf", nav, 503, true, true, "Servizio non disponibile", "/_/archivio/guastalla/2019/PC-2019-0042/"},
		{"a browser refused before authentication", "GET", missing, nav, 503, false, true, "Servizio non disponibile", "/_/accedi"},
		{"a browser, a failed condition", "GET", missing, nav, 412, true, false, "", ""},
		{"a WebDAV client", "GET", missing, map[string]string{"Accept": "*/*"}, 404, true, false, "", ""},
		{"a WebDAV client without Accept", "GET", missing, nil, 404, true, false, "", ""},
		{"a page's script", "GET", missing, map[string]string{"Sec-Fetch-Mode": "cors", "Accept": "text/html"}, 404, true, false, "", ""},
		{"a frame", "GET", missing, map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe", "Accept": "text/html"}, 404, true, false, "", ""},
		{"PROPFIND", "PROPFIND", missing, map[string]string{"Accept": "text/html"}, 404, true, false, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			r.AddCookie(ed.cookie)
			if tt.identified {
				r = r.WithContext(auth.WithIdentity(r.Context(), auth.Identity{Name: "editore", Method: "session"}))
			}
			w := httptest.NewRecorder()
			if got := p.h.DrivePage(w, r, tt.status); got != tt.page {
				t.Fatalf("DrivePage answered %v, want %v", got, tt.page)
			}
			if !tt.page {
				if w.Body.Len() != 0 || len(w.Header()) != 0 {
					t.Errorf("a request left to the drive got %d %v %q", w.Code, w.Header(), w.Body.String())
				}
				return
			}
			body := w.Body.String()
			if w.Code != tt.status || w.Header().Get("Content-Type") != "text/html; charset=utf-8" || w.Header().Get("Content-Security-Policy") == "" {
				t.Errorf("%d %v, want %d with the pages' headers", w.Code, w.Header(), tt.status)
			}
			if tt.method == "HEAD" {
				return
			}
			if !strings.Contains(body, "<h1>"+tt.title+"</h1>") || !strings.Contains(body, `<a href="`+tt.back+`" id="torna">`) {
				t.Errorf("want %q and the way back to %s:\n%s", tt.title, tt.back, body)
			}
			if got := strings.Contains(body, `id="esci"`); got != tt.identified {
				t.Errorf("the session's header shown %v, want %v", got, tt.identified)
			}
		})
	}
}
