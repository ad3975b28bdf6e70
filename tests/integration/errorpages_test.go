package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/tests/harness"
)

// navigation are the headers of a page a browser opens.
var navigation = map[string]string{
	"Accept":         "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	"Sec-Fetch-Mode": "navigate",
	"Sec-Fetch-Dest": "document",
}

// open sends a GET with header through c and returns status, headers and
// body.
func open(t *testing.T, c *http.Client, url string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestSmallPaths: the icon is served to anyone; the pages' static folders
// are not listed; an unknown page and a missing path of the drive opened in
// a browser are pages in Italian with the session's header and the way
// back, while WebDAV clients get the plain status.
func TestSmallPaths(t *testing.T) {
	g := harness.StartServe(t, "")
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	t.Run("the icon", func(t *testing.T) {
		code, h, body := open(t, anon, g.URL+"/favicon.ico", nil)
		if code != 200 || h.Get("Content-Type") != "image/svg+xml" || !strings.Contains(body, "<svg") {
			t.Fatalf("/favicon.ico without credentials: %d %q %.80q", code, h.Get("Content-Type"), body)
		}
		if cc := h.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") {
			t.Errorf("/favicon.ico: Cache-Control %q", cc)
		}
		if h.Get("WWW-Authenticate") != "" {
			t.Error("the icon asks for credentials")
		}
	})

	t.Run("static folders", func(t *testing.T) {
		for _, p := range []string{"/_/static/", "/_/static/bi/", "/_/static/bi/fonts/", "/_/static/bi"} {
			code, h, body := open(t, anon, g.URL+p, nil)
			if code != http.StatusNotFound || strings.Contains(body, "<pre>") || !strings.Contains(body, "Pagina non trovata") {
				t.Errorf("GET %s: %d %q, want the 404 page\n%.300s", p, code, h.Get("Content-Type"), body)
			}
			if cc := h.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("GET %s: a 404 kept by caches: %q", p, cc)
			}
		}
		if code, h, _ := open(t, anon, g.URL+"/_/static/faldone.css", nil); code != 200 || !strings.Contains(h.Get("Cache-Control"), "immutable") {
			t.Errorf("GET /_/static/faldone.css: %d %q", code, h.Get("Cache-Control"))
		}
	})

	mustStatus(t, g, "MKCOL", "/guastalla/2019", nil, "", http.StatusCreated)
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	signedIn := func(t *testing.T, what, body, back string) {
		t.Helper()
		for _, want := range []string{`id="esci"`, ">" + g.User + "</a>", `<a href="` + back + `" id="torna">`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the page misses %s\n%s", what, want, body)
			}
		}
	}

	t.Run("an unknown page", func(t *testing.T) {
		code, body := b.Get("/_/qualsiasi-cosa")
		if code != http.StatusNotFound || !strings.Contains(body, "<h1>Pagina non trovata</h1>") {
			t.Fatalf("%d\n%s", code, body)
		}
		signedIn(t, "an unknown page", body, "/_/profilo")
	})

	t.Run("a missing path of the drive", func(t *testing.T) {
		const missing = "/guastalla/2019/PC-2019-0077/domanda.pdf"
		code, h, body := open(t, b.Client(), g.URL+missing, navigation)
		if code != http.StatusNotFound || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, "<h1>File o cartella non trovati</h1>") {
			t.Fatalf("a browser: %d %q\n%s", code, h.Get("Content-Type"), body)
		}
		signedIn(t, "a missing path", body, "/_/archivio/guastalla/2019/")
		if h.Get("Content-Security-Policy") == "" {
			t.Error("the page has not the pages' Content-Security-Policy")
		}
		// A WebDAV client: the plain status.
		for _, hd := range []map[string]string{nil, {"Accept": "*/*"}} {
			code, body, h := g.Status("GET", missing, hd, "")
			if code != http.StatusNotFound || strings.Contains(body, "<html") || strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				t.Errorf("a WebDAV client (%v): %d %q %q", hd, code, h.Get("Content-Type"), body)
			}
		}
	})
}

// TestDrivePageStorageOut: a Comune whose storage is out answers a
// browser 503 with the page (and Retry-After), a WebDAV client with the
// plain status.
func TestDrivePageStorageOut(t *testing.T) {
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	g := harness.StartServe(t, s3Yaml(srv, fmt.Sprintf(`  - id: poviglio
    name: Poviglio
    storage: "s3://archivio-poviglio?endpoint=%s&region=us-east-1&path_style=true"
    access_key_id: %s
    secret_access_key: %s
`, srv.Endpoint, srv.AccessKey, srv.SecretKey)))
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	code, h, body := open(t, b.Client(), g.URL+"/poviglio/domanda.pdf", navigation)
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(body, "<h1>Servizio non disponibile</h1>") {
		t.Fatalf("a browser: %d, Retry-After %q\n%s", code, h.Get("Retry-After"), body)
	}
	for _, want := range []string{`id="esci"`, `<a href="/_/archivio/poviglio/" id="torna">Torna alla cartella Poviglio</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page misses %s\n%s", want, body)
		}
	}
	for _, leak := range []string{"archivio-poviglio", srv.Endpoint, "NoSuchBucket", "s3:"} {
		if strings.Contains(body, leak) {
			t.Errorf("the page shows %q", leak)
		}
	}
	if code, body, _ := g.Status("GET", "/poviglio/domanda.pdf", nil, ""); code != http.StatusServiceUnavailable || strings.Contains(body, "<html") {
		t.Errorf("a WebDAV client: %d %q", code, body)
	}
}
