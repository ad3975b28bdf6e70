package harness

import (
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Browser is a plain HTTP client that uses the gateway's pages as a person
// would, with cookies and the forms' CSRF tokens, for tests that need a
// session without a real browser.
type Browser struct {
	t    testing.TB
	g    *Gateway
	c    *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// NewBrowser returns a client of g's pages with an empty cookie jar.
func NewBrowser(t testing.TB, g *Gateway) *Browser {
	jar, _ := cookiejar.New(nil)
	c := *g.Client()
	c.Jar = jar
	return &Browser{t: t, g: g, c: &c}
}

// Get loads a page, remembering its CSRF token, and returns status and body.
func (b *Browser) Get(path string) (int, string) {
	b.t.Helper()
	return b.page(b.c.Get(b.g.URL + path))
}

// page reads a response as the browser does: its body, and the CSRF token
// of the page's forms for the next post.
func (b *Browser) page(resp *http.Response, err error) (int, string) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

// Fetch sends a GET of path with the headers given, and returns the
// response (its body read and closed) and the body.
func (b *Browser) Fetch(path string, header map[string]string) (*http.Response, []byte) {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.g.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, body
}

// Post submits a form with the last page's CSRF token, following the
// redirect, and returns the final status and body.
func (b *Browser) Post(path string, form url.Values) (int, string) {
	b.t.Helper()
	form.Set("csrf", b.csrf)
	return b.page(b.c.PostForm(b.g.URL+path, form))
}

// SignIn signs in with a local account through the sign-in form.
func (b *Browser) SignIn(user, pass string) {
	b.t.Helper()
	b.Get("/_/accedi")
	code, body := b.Post("/_/accedi/locale", url.Values{"utente": {user}, "parola": {pass}})
	if code != http.StatusOK || !strings.Contains(body, "area personale") {
		b.t.Fatalf("sign-in as %s: %d\n%.400s", user, code, body)
	}
}

// loginFormRE finds the test OpenID Provider's login form.
var loginFormRE = regexp.MustCompile(`<form id="accesso" method="post" action="([^"]+)"`)

// SignInSPID signs in with the gateway's SPID button as account of the
// test OpenID Provider, as a browser would: the gateway sends it to the
// provider, whose login form it fills, and the provider back to the
// gateway, which opens the personal page.
func (b *Browser) SignInSPID(account string) {
	b.t.Helper()
	resp, err := b.c.Get(b.g.URL + "/_/accedi/spid")
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := loginFormRE.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		b.t.Fatalf("SPID sign-in as %s: no login form at %s (%d):\n%.400s", account, resp.Request.URL, resp.StatusCode, body)
	}
	login, err := resp.Request.URL.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		b.t.Fatal(err)
	}
	code, page := b.page(b.c.PostForm(login.String(), url.Values{"login": {account}}))
	if code != http.StatusOK || !strings.Contains(page, "area personale") {
		b.t.Fatalf("SPID sign-in as %s: %d\n%.400s", account, code, page)
	}
}

// Client is the browser's HTTP client, with its cookies.
func (b *Browser) Client() *http.Client { return b.c }

// Upload posts files (name → content) to an upload form's action as
// multipart/form-data, the CSRF token first, as the page's form does.
func (b *Browser) Upload(action string, files map[string][]byte) (int, string) {
	b.t.Helper()
	return b.UploadTree(action, nil, files)
}

// UploadTree posts a folder as the page's script does: the folders to
// make as "cartella" fields, then the files named by their relative paths.
func (b *Browser) UploadTree(action string, dirs []string, files map[string][]byte) (int, string) {
	b.t.Helper()
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", b.csrf)
	for _, d := range dirs {
		mw.WriteField("cartella", d)
	}
	for name, content := range files {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			b.t.Fatal(err)
		}
		fw.Write(content)
	}
	mw.Close()
	return b.page(b.c.Post(b.g.URL+action, mw.FormDataContentType(), strings.NewReader(body.String())))
}
