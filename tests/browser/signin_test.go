package browser

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/gateway/demo"
	"github.com/bassareggiana/faldone/tests/harness"
)

// TestSignInBoundToBrowser: the provider's answer to a sign-in is taken
// only from the browser that started it. An attacker who signs in as
// himself and sends the answer's URL to someone else cannot sign her in to
// his account (login CSRF); the browser that started the sign-in still
// completes it with the same URL.
func TestSignInBoundToBrowser(t *testing.T) {
	op, g := spidSetup(t)
	start := newBrowser(t)

	// The browser that starts the sign-in stops at the provider's answer.
	paused := make(chan *fetch.EventRequestPaused, 1)
	chromedp.ListenTarget(start, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			select {
			case paused <- e:
			default:
			}
		}
	})
	if err := chromedp.Run(start,
		fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: "*/_/accedi/ritorno*", RequestStage: fetch.RequestStageRequest}}),
		chromedp.Navigate(g.URL+"/_/accedi"),
		chromedp.Click(`#entra-spid`, chromedp.ByID),
		chromedp.WaitVisible(`input[name=login]`),
		chromedp.SendKeys(`input[name=login]`, "rossi"),
		chromedp.Click(`#entra`, chromedp.ByID),
	); err != nil {
		t.Fatalf("sign in at the provider: %v\n%s", err, op.Log())
	}
	var answer *fetch.EventRequestPaused
	select {
	case answer = <-paused:
	case <-time.After(30 * time.Second):
		t.Fatalf("the provider never answered\n%s", op.Log())
	}
	if !strings.Contains(answer.Request.URL, "code=") || !strings.Contains(answer.Request.URL, "state=") {
		t.Fatalf("the provider's answer %q has no code or state", answer.Request.URL)
	}

	// Another browser, which started nothing, opens the answer: refused,
	// and not signed in.
	other := newBrowser(t)
	var title, msg string
	if err := chromedp.Run(other,
		chromedp.Navigate(answer.Request.URL),
		chromedp.WaitVisible(`#messaggio`, chromedp.ByID),
		chromedp.Text(`h1`, &title),
		chromedp.Text(`#messaggio`, &msg, chromedp.ByID),
	); err != nil {
		t.Fatalf("open the answer in another browser: %v\n%s", err, g.Log())
	}
	if title != "Accesso non completato" || !strings.Contains(msg, "non è stato avviato da questo browser") {
		t.Errorf("another browser opening the answer sees %q: %q", title, msg)
	}
	cookies, err := storageGetCookies(other)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if c.Name == "faldone_sessione" {
			t.Errorf("the other browser got a session cookie")
		}
	}
	if err := chromedp.Run(other,
		chromedp.Navigate(g.URL+"/_/profilo"),
		chromedp.WaitVisible(`#entra-spid`, chromedp.ByID),
	); err != nil {
		t.Errorf("the other browser's personal page: %v", err)
	}

	// The browser that started the sign-in completes it.
	var who string
	if err := chromedp.Run(start,
		fetch.ContinueRequest(answer.RequestID),
		chromedp.WaitVisible(`#nome-utente`, chromedp.ByID),
		chromedp.Text(`#nome-utente`, &who, chromedp.ByID),
		fetch.Disable(),
	); err != nil {
		t.Fatalf("complete the sign-in: %v\n%s", err, g.Log())
	}
	if who != rossiCF {
		t.Errorf("signed in as %q, want %q", who, rossiCF)
	}
	if !strings.Contains(g.Log(), "did not start the sign-in") {
		t.Errorf("the refused answer is not in the log")
	}

	// The session keeps no ID token: nothing shaped like a JWT (a base64
	// JSON header, "eyJ") is in the state store's files.
	files, _ := filepath.Glob(filepath.Join(g.DataDir, "faldone.db*"))
	if len(files) == 0 {
		t.Fatalf("no state store in %s", g.DataDir)
	}
	for _, f := range files {
		if b, err := os.ReadFile(f); err != nil {
			t.Fatal(err)
		} else if bytes.Contains(b, []byte("eyJ")) {
			t.Errorf("%s holds a JWT", filepath.Base(f))
		}
	}
	// Signing out visits the provider's logout naming the client, with no
	// ID token in the URL.
	logouts := make(chan string, 10)
	chromedp.ListenTarget(start, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && strings.Contains(e.Request.URL, "/session/end") {
			select {
			case logouts <- e.Request.URL:
			default:
			}
		}
	})
	var out string
	if err := chromedp.Run(start,
		chromedp.Click(`#esci`, chromedp.ByID),
		chromedp.WaitVisible(`#entra-spid`, chromedp.ByID),
		chromedp.Text(`#uscito`, &out, chromedp.ByID),
	); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if !strings.HasPrefix(out, "Sei uscito") {
		t.Errorf("after signing out the page says %q", out)
	}
	// Said once: the page opened again does not.
	var again bool
	if err := chromedp.Run(start, chromedp.Reload(), chromedp.WaitVisible(`#entra-spid`, chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("uscito") !== null`, &again)); err != nil || again {
		t.Errorf("the sign-out message again after a reload: %v %v", again, err)
	}
	var logout string
	select {
	case logout = <-logouts:
	default:
	}
	if !strings.Contains(logout, "client_id=faldone") || strings.Contains(logout, "id_token_hint") {
		t.Errorf("logout URL %q: want client_id and no id_token_hint", logout)
	}
}

// signInHere fills the local sign-in form of the page the browser is on.
func signInHere(user, pass string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible(`#utente`, chromedp.ByID),
		chromedp.SendKeys(`#utente`, user, chromedp.ByID),
		chromedp.SendKeys(`#parola`, pass, chromedp.ByID),
		chromedp.Click(`#entra-locale`, chromedp.ByID),
	}
}

// TestSignInReturnsToPage: a page opened signed out leads to the sign-in
// and, once signed in, back to that page, with a local account and with
// SPID; a session that expired says so on the sign-in page; a return
// address on another host is ignored.
func TestSignInReturnsToPage(t *testing.T) {
	const user, pass = "editore", "password-dell-editore"
	g := harness.StartServe(t, "sessions: {idle: 3s, absolute: 1h}\naccess:\n  assignments:\n    - {person: editore, comune: guastalla, role: editor}\n")
	g.AddUser(user, pass)
	if _, err := demo.Seed(filepath.Join(g.DataDir, "archivio"), []demo.Comune{{ID: "guastalla", Name: "Guastalla"}}); err != nil {
		t.Fatal(err)
	}
	page := g.URL + "/_/archivio" + dossier + "/"

	for _, size := range screens {
		t.Run("local account "+size.name, func(t *testing.T) {
			ctx := newBrowser(t)
			if err := chromedp.Run(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				t.Fatal(err)
			}
			var at string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(page),
				signInHere(user, pass),
				chromedp.WaitVisible(`#elenco`, chromedp.ByID),
				chromedp.Location(&at),
			); err != nil {
				t.Fatalf("open a dossier signed out and sign in: %v", err)
			}
			if at != page {
				t.Errorf("after the sign-in the browser is at %q, want %q", at, page)
			}

			// Left idle past the limit, the session ends: the sign-in page says
			// so, and leads back to the page again.
			time.Sleep(3*time.Second + 300*time.Millisecond + time.Second)
			var note string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(page),
				chromedp.WaitVisible(`#scaduta`, chromedp.ByID),
				chromedp.Text(`#scaduta`, &note, chromedp.ByID),
				signInHere(user, pass),
				chromedp.WaitVisible(`#elenco`, chromedp.ByID),
				chromedp.Location(&at),
			); err != nil {
				t.Fatalf("an expired session: %v", err)
			}
			if !strings.Contains(note, "La sessione è scaduta") {
				t.Errorf("the sign-in page after an expired session says %q", note)
			}
			if at != page {
				t.Errorf("after signing in again the browser is at %q, want %q", at, page)
			}
		})
	}

	for _, dopo := range []string{"//evil.example/pratiche", "https://evil.example/pratiche", "/\\evil.example"} {
		t.Run("dopo="+dopo, func(t *testing.T) {
			ctx := newBrowser(t)
			var at string
			var expired bool
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/accedi?dopo="+url.QueryEscape(dopo)),
				chromedp.WaitVisible(`#utente`, chromedp.ByID),
				chromedp.Evaluate(`document.getElementById("scaduta") !== null`, &expired),
				signInHere(user, pass),
				chromedp.WaitVisible(`#sfoglia`, chromedp.ByID),
				chromedp.Location(&at),
			); err != nil {
				t.Fatalf("sign in with dopo=%s: %v", dopo, err)
			}
			if at != g.URL+"/_/profilo" {
				t.Errorf("after the sign-in the browser is at %q, want the personal page", at)
			}
			if expired {
				t.Errorf("a first sign-in says the session expired")
			}
		})
	}

	for _, size := range screens {
		t.Run("SPID "+size.name, func(t *testing.T) {
			op, sg := spidSetup(t)
			ctx := newBrowser(t)
			if err := chromedp.Run(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				t.Fatal(err)
			}
			folder := sg.URL + "/_/archivio/guastalla/"
			var at string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(folder),
				chromedp.Click(`#entra-spid`, chromedp.ByID),
				chromedp.WaitVisible(`input[name=login]`),
				chromedp.SendKeys(`input[name=login]`, "rossi"),
				chromedp.Click(`#entra`, chromedp.ByID),
				chromedp.WaitVisible(`#elenco`, chromedp.ByID),
				chromedp.Location(&at),
			); err != nil {
				t.Fatalf("open a folder signed out and sign in with SPID: %v\n%s\n%s", err, sg.Log(), op.Log())
			}
			if at != folder {
				t.Errorf("after the SPID sign-in the browser is at %q, want %q", at, folder)
			}
		})
	}
}

// TestUploadAfterSessionExpired: a file chosen on a dossier page after the
// session expired is not reported as uploaded: the page says the session
// expired, nothing is stored, the chosen file stays selected, and after
// signing in again (in another tab) the same press of "Carica" stores it.
func TestUploadAfterSessionExpired(t *testing.T) {
	const user, pass = "editore", "password-dell-editore"
	g := harness.StartServe(t, "sessions: {idle: 2s, absolute: 1h}\naccess:\n  admins: [operatore]\n  assignments:\n    - {person: editore, comune: guastalla, role: editor}\n")
	g.AddUser(user, pass)
	if _, err := demo.Seed(filepath.Join(g.DataDir, "archivio"), []demo.Comune{{ID: "guastalla", Name: "Guastalla"}}); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "perizia-integrativa.pdf")
	// Large enough that the server refuses it before reading it all (Go
	// drains at most 256 KiB of an unread body) and closes the connection.
	content := "%PDF-1.4 perizia integrativa " + strings.Repeat("x", 16<<20)
	if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		harness.SignIn(g.URL, user, pass),
		chromedp.Navigate(g.URL+"/_/archivio"+dossier+"/"),
		openUpload,
		chromedp.WaitVisible(`#modulo-carica`, chromedp.ByID),
	); err != nil {
		t.Fatalf("open the dossier: %v", err)
	}
	time.Sleep(2*time.Second + 200*time.Millisecond + time.Second)

	var status string
	if err := chromedp.Run(ctx,
		chromedp.SetUploadFiles(`#file`, []string{src}, chromedp.ByID),
		chromedp.Click(`#carica`, chromedp.ByID),
		chromedp.Poll(`(function () { var t = document.getElementById("avanzamento-testo").textContent; return /scaduta|completato|non riuscito|interrotto/.test(t) ? t : false; })()`,
			&status, chromedp.WithPollingTimeout(15*time.Second)),
	); err != nil {
		t.Fatalf("upload after the session expired: %v", err)
	}
	if !strings.Contains(status, "La sessione è scaduta") || strings.Contains(status, "completato") {
		t.Errorf("the page says %q after an upload with an expired session", status)
	}
	if code, _, _ := g.Status("GET", dossier+"/perizia-integrativa.pdf", nil, ""); code != 404 {
		t.Errorf("after the refused upload the file answers %d, want 404", code)
	}
	var kept int
	var href, at string
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(`document.getElementById("file").files.length`, &kept),
		chromedp.AttributeValue(`#accedi-di-nuovo`, "href", &href, nil, chromedp.ByID),
		chromedp.Location(&at),
	); err != nil {
		t.Fatalf("after the refused upload: %v", err)
	}
	if kept != 1 {
		t.Errorf("the file input holds %d files after the refused upload, want the chosen one", kept)
	}
	if !strings.Contains(href, "/_/accedi?dopo=") || !strings.Contains(href, url.QueryEscape("/_/archivio"+dossier+"/")) {
		t.Errorf("the sign-in link %q does not lead back to the dossier", href)
	}
	if at != g.URL+"/_/archivio"+dossier+"/" {
		t.Errorf("the page left the dossier for %q", at)
	}

	// Sign in again in another tab; back in the page, "Carica" again.
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	if err := chromedp.Run(tab, harness.SignIn(g.URL, user, pass)); err != nil {
		t.Fatalf("sign in again in another tab: %v", err)
	}
	if err := chromedp.Run(ctx,
		chromedp.Click(`#carica`, chromedp.ByID),
		chromedp.WaitVisible(`//a[@class="file" and text()="perizia-integrativa.pdf"]`, chromedp.BySearch),
	); err != nil {
		t.Fatalf("retry after signing in: %v\n%s", err, g.Log())
	}
	if code, body, _ := g.Status("GET", dossier+"/perizia-integrativa.pdf", nil, ""); code != 200 || body != content {
		t.Errorf("the retried upload: %d, %d bytes", code, len(body))
	}
}
