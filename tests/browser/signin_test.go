package browser

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
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
	if err := chromedp.Run(start,
		chromedp.Click(`#esci`, chromedp.ByID),
		chromedp.WaitVisible(`#entra-spid`, chromedp.ByID),
	); err != nil {
		t.Fatalf("sign out: %v", err)
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
