// Package browser holds the end-to-end tests that drive headless Chromium
// against the real gateway and a real OpenID Provider process.
package browser

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// newBrowser starts headless Chromium (Debian's) with a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return harness.Chromium(t, 2*time.Minute)
}

// screens are the two sizes every path is walked at: a tablet held
// upright and an office PC.
var screens = []struct {
	name string
	w, h int64
}{{"tablet", 768, 1024}, {"pc", 1366, 900}}

// openUpload opens the folder page's section of upload and new folder,
// as a person would: it is closed until asked for, the list comes first.
var openUpload = chromedp.Evaluate(`(() => { const d = document.getElementById("sezione-carica"); if (d && !d.open) d.querySelector("summary").click(); })()`, nil)

// guideShot saves the page for the guide: under tests/out/guida, and, when
// FALDONE_UPDATE_GUIDE is set, over the guide's own image in docs/guida/img,
// which is committed. A JPEG, for the size of the guide.
func guideShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var jpg []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&jpg, 80)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	screenshot(t, ctx, "guida/"+name) // a PNG too, to look at
	dirs := []string{filepath.Join(harness.Root(), "tests", "out", "guida")}
	if os.Getenv("FALDONE_UPDATE_GUIDE") != "" && slices.Contains(guideImages(t), name) {
		dirs = append(dirs, filepath.Join(harness.Root(), "docs", "guida", "img"))
	}
	for _, dir := range dirs {
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, name+".jpg"), jpg, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// guideImages are the images docs/guida/README.md shows, by name.
func guideImages(t *testing.T) []string {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(harness.Root(), "docs", "guida", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`\(img/([a-z0-9-]+)\.jpg\)`).FindAllStringSubmatch(string(md), -1) {
		names = append(names, m[1])
	}
	return names
}

// screenshot saves the page under tests/out for people to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(harness.Root(), "tests", "out", name+".png")
	os.MkdirAll(filepath.Dir(file), 0o755)
	os.WriteFile(file, png, 0o644)
}

const (
	rossiCF   = "RSSMRA80A01H223Y"
	bianchiCF = "BNCLRA85M41E253K"
	davAud    = "faldone-dav"
)

// spidSetup starts a provider with two people — Rossi signs in at SPID
// level 2, Bianchi only at level 1 — and a gateway that requires level 2.
func spidSetup(t *testing.T) (*harness.OIDCProvider, *harness.Gateway) {
	t.Helper()
	addr := harness.FreePort(t)
	base := "http://" + addr
	op := harness.StartOIDC(t, harness.OIDCConfig{
		Clients: []harness.OIDCClient{
			{ID: "faldone", Secret: "segreto-del-client-faldone-0123456789", RedirectURIs: []string{base + "/_/accedi/ritorno"},
				PostLogoutRedirectURIs: []string{base + "/_/accedi"}},
			{ID: "script", Secret: "segreto-dello-script-0123456789", RedirectURIs: []string{"http://127.0.0.1/cb"}, DefaultResource: "https://faldone.example/dav"},
			{ID: "script-breve", Secret: "segreto-breve-0123456789", RedirectURIs: []string{"http://127.0.0.1/cb"}, DefaultResource: "https://faldone.example/dav", AccessTokenTTL: 2 * time.Second},
		},
		Users: []harness.OIDCUser{
			{ID: "rossi", FiscalNumber: "TINIT-" + rossiCF, GivenName: "Mario", FamilyName: "Rossi", Email: "mario.rossi@example.it", Level: harness.SpidL2},
			{ID: "bianchi", FiscalNumber: "TINIT-" + bianchiCF, GivenName: "Laura", FamilyName: "Bianchi", Level: harness.SpidL1},
		},
		Resources:        []harness.OIDCResource{{Indicator: "https://faldone.example/dav", Audience: davAud}},
		LogoutAutoSubmit: true,
	})
	yaml := fmt.Sprintf(`oidc:
  issuer: %s
  client_id: faldone
  redirect_url: %s/_/accedi/ritorno
  min_acr: %s
  bearer_audience: %s
access:
  admins: [operatore]
  assignments:
    - {person: %s, comune: guastalla, role: editor}
  min_write_acr: %s
`, op.Issuer, base, harness.SpidL2, davAud, rossiCF, harness.SpidL2)
	g := harness.StartServeOn(t, addr, yaml, "FALDONE_OIDC_CLIENT_SECRET=segreto-del-client-faldone-0123456789")
	return op, g
}

// TestSPIDSignInAppPasswordLifecycle: sign in with SPID in a real browser,
// create an app password, use it over WebDAV, revoke it, and see the next
// request refused; a Bearer JWT works until it expires; a sign-in below the
// required level is refused; and no secret reaches the logs.
func TestSPIDSignInAppPasswordLifecycle(t *testing.T) {
	op, g := spidSetup(t)
	// What must never reach the log, from the walks at each size.
	var secrets, cookies []string
	for _, size := range screens {
		t.Run(size.name, func(t *testing.T) {
			ctx := newBrowser(t)
			shot := func(name string) { screenshot(t, ctx, name+"-"+size.name) }
			if err := chromedp.Run(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				t.Fatal(err)
			}
			file := "/guastalla/verbale-" + size.name + ".txt"

			// An unauthenticated browser is sent to the sign-in page.
			var title string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/"),
				chromedp.WaitVisible(`#entra-spid`, chromedp.ByID),
				chromedp.Title(&title),
			); err != nil {
				t.Fatalf("open the drive's address: %v\n%s", err, g.Log())
			}
			shot("accedi")
			if !strings.Contains(title, "Accedi") {
				t.Fatalf("title %q", title)
			}
			// Sign in at the provider.
			var who string
			if err := chromedp.Run(ctx,
				chromedp.Click(`#entra-spid`, chromedp.ByID),
				chromedp.WaitVisible(`input[name=login]`),
				chromedp.SendKeys(`input[name=login]`, "rossi"),
				chromedp.Click(`#entra`, chromedp.ByID),
				chromedp.WaitVisible(`#nome-utente`, chromedp.ByID),
				chromedp.Text(`#nome-utente`, &who, chromedp.ByID),
			); err != nil {
				t.Fatalf("sign in: %v\ngateway:\n%s\nprovider:\n%s", err, g.Log(), op.Log())
			}
			if who != rossiCF {
				t.Fatalf("user name on the personal page %q, want the normalized fiscal number %q", who, rossiCF)
			}
			shot("profilo")
			// Create a read-write app password for one device.
			var secret, user string
			if err := chromedp.Run(ctx,
				chromedp.SendKeys(`#nome`, "PC ufficio tecnico", chromedp.ByID),
				chromedp.Click(`#scrittura`, chromedp.ByID),
				chromedp.Click(`#crea`, chromedp.ByID),
				chromedp.WaitVisible(`#segreto`, chromedp.ByID),
				chromedp.Value(`#segreto`, &secret, chromedp.ByID),
				chromedp.Text(`#utente-creato`, &user, chromedp.ByID),
			); err != nil {
				t.Fatalf("create app password: %v", err)
			}
			shot("password-creata")
			if !strings.HasPrefix(secret, "fld_") || len(secret) < 50 || user != rossiCF {
				t.Fatalf("app password %d chars, user %q", len(secret), user)
			}
			// The copy button copies; this system's instructions come first, open,
			// the others closed; the registry's advice is for administrators only.
			var copied, first string
			var others, registry bool
			if err := chromedp.Run(ctx,
				chromedp.Click(`#copia`, chromedp.ByID),
				chromedp.Poll(`document.getElementById("copia-esito").textContent || false`, &copied, chromedp.WithPollingTimeout(5*time.Second)),
				chromedp.Evaluate(`document.querySelector("#sistemi details.sistema").id`, &first),
				chromedp.Evaluate(`[...document.querySelectorAll("#sistemi details.sistema")].slice(1).some(d => d.open)`, &others),
				chromedp.Evaluate(`document.getElementById("consiglio-registro") !== null`, &registry),
			); err != nil {
				t.Fatalf("the new password's page: %v", err)
			}
			if copied != "Password copiata" || first != "sistema-linux" || others || registry {
				t.Errorf("copy %q, first system %q, others open %v, registry advice to an editor %v", copied, first, others, registry)
			}
			// Use it for WebDAV.
			dav := g.As(user, secret)
			if code, body, _ := dav.Status("PROPFIND", "/", map[string]string{"Depth": "1"}, ""); code != 207 || !strings.Contains(body, "/guastalla/") {
				t.Fatalf("PROPFIND with the app password: %d", code)
			}
			if code, _, _ := dav.Status("PUT", file, nil, "verbale di sopralluogo"); code != http.StatusCreated {
				t.Fatalf("PUT with the app password: %d", code)
			}
			if code, body, _ := dav.Status("GET", file, nil, ""); code != 200 || body != "verbale di sopralluogo" {
				t.Fatalf("GET with the app password: %d %q", code, body)
			}
			// A program that opens the file with it locks it; the file's page names
			// the person, not their fiscal number, and the program.
			lockBody := `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>PC ufficio tecnico</D:owner></D:lockinfo>`
			if code, _, _ := dav.Status("LOCK", file, map[string]string{"Timeout": "Second-600"}, lockBody); code != 200 {
				t.Fatalf("LOCK with the app password: %d", code)
			}
			var holder string
			tab, closeTab := chromedp.NewContext(ctx) // another tab of the same browser
			defer closeTab()
			if err := chromedp.Run(tab,
				chromedp.Navigate(g.URL+"/_/scheda"+file),
				chromedp.WaitVisible(`#blocco`, chromedp.ByID),
				chromedp.Text(`#blocco`, &holder, chromedp.ByID),
			); err != nil {
				t.Fatalf("file page: %v", err)
			}
			if !strings.Contains(holder, "Aperto da Mario Rossi (PC ufficio tecnico)") || strings.Contains(holder, rossiCF) {
				t.Errorf("lock holder on the file's page: %q", holder)
			}
			// Revoke it on the personal page: the next request is refused.
			var listed int
			if err := chromedp.Run(ctx,
				chromedp.Click(`#torna`, chromedp.ByID),
				chromedp.WaitVisible(`#password`, chromedp.ByID),
				chromedp.Evaluate(`document.querySelectorAll('#password tbody tr').length`, &listed),
				chromedp.Click(`button.revoca`),
				chromedp.WaitVisible(`#nessuna`, chromedp.ByID),
			); err != nil {
				t.Fatalf("revoke: %v", err)
			}
			if listed != 1 {
				t.Errorf("personal page listed %d app passwords, want 1", listed)
			}
			if code, _, _ := dav.Status("PROPFIND", "/", map[string]string{"Depth": "0"}, ""); code != http.StatusUnauthorized {
				t.Fatalf("PROPFIND after revocation: %d, want 401", code)
			}
			// Sign out; the browser cookie no longer opens the personal page.
			cookies = append(cookies, sessionCookie(t, ctx))
			if err := chromedp.Run(ctx,
				chromedp.Click(`#esci`, chromedp.ByID),
				chromedp.WaitVisible(`#entra-spid`, chromedp.ByID),
			); err != nil {
				t.Fatalf("sign out: %v", err)
			}
			secrets = append(secrets, secret)

		})
	}
	// A Bearer JWT from the provider works; an expired one does not.
	token := op.AccessToken(t, "script", "rossi")
	if code := bearerStatus(t, g, token); code != 207 {
		t.Errorf("PROPFIND with a Bearer JWT: %d", code)
	}
	short := op.AccessToken(t, "script-breve", "rossi")
	time.Sleep(3 * time.Second)
	if code := bearerStatus(t, g, short); code != http.StatusUnauthorized {
		t.Errorf("PROPFIND with an expired Bearer JWT: %d, want 401", code)
	}

	// Bianchi signs in at SPID level 1 only: refused.
	ctx2 := newBrowser(t)
	var msg string
	if err := chromedp.Run(ctx2,
		chromedp.Navigate(g.URL+"/_/accedi"),
		chromedp.Click(`#entra-spid`, chromedp.ByID),
		chromedp.WaitVisible(`input[name=login]`),
		chromedp.SendKeys(`input[name=login]`, "bianchi"),
		chromedp.Click(`#entra`, chromedp.ByID),
		chromedp.WaitVisible(`#messaggio`, chromedp.ByID),
		chromedp.Text(`h1`, &msg),
	); err != nil {
		t.Fatalf("level-1 sign-in: %v", err)
	}
	if !strings.Contains(msg, "Livello di sicurezza insufficiente") {
		t.Errorf("level-1 sign-in shows %q", msg)
	}
	screenshot(t, ctx2, "livello-insufficiente")

	// No secret in any log line.
	g.Stop()
	logs := g.Log()
	never := map[string][]string{
		"app password": secrets, "client secret": {"segreto-del-client-faldone-0123456789"},
		"session cookie": cookies, "bearer token": {token, short},
	}
	for name, ss := range never {
		for _, s := range ss {
			if s != "" && strings.Contains(logs, s) {
				t.Errorf("the gateway's log contains the %s", name)
			}
		}
	}
	if !strings.Contains(logs, "app password revoked") || !strings.Contains(logs, "sign-in refused") {
		t.Errorf("the log misses the app-password revocation or the refused sign-in")
	}
}

func bearerStatus(t *testing.T, g *harness.Gateway, token string) int {
	t.Helper()
	req, _ := http.NewRequest("PROPFIND", g.URL+"/", nil)
	req.Header.Set("Depth", "1")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sessionCookie returns the value of the browser's session cookie.
func sessionCookie(t *testing.T, ctx context.Context) string {
	t.Helper()
	var v string
	// The cookie is HttpOnly: read it through the DevTools protocol.
	cookies, err := storageGetCookies(ctx)
	for _, c := range cookies {
		if c.Name == "faldone_sessione" {
			v = c.Value
		}
	}
	if err != nil || v == "" {
		t.Fatalf("session cookie: %q %v", v, err)
	}
	return v
}
