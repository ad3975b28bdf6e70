package harness

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium starts a headless Chromium (Debian's, which the test command
// installs) with a fresh profile, and returns the context that drives it.
// It stops when the test ends, or after timeout.
func Chromium(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: the test command installs it (apt-get install chromium)")
	}
	// Not t.TempDir: Chromium may still write its profile while it exits,
	// and a failed removal would fail the test. Removed after the browser.
	profile, err := os.MkdirTemp("", "faldone-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		// This machine's network is closed: Chromium must not try to reach
		// Google's services, which fails many connections at every start.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(768, 1024),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel3)
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// SignIn signs in at base with a local account, in the browser, and waits
// for the personal page.
func SignIn(base, user, pass string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(base + "/_/accedi"),
		// With SPID offered too, the form is behind its disclosure: open
		// it, as a person would.
		chromedp.Evaluate(`(() => { const d = document.getElementById("accesso-servizio"); if (d && !d.open) d.querySelector("summary").click(); })()`, nil),
		chromedp.WaitVisible(`#utente`, chromedp.ByID),
		chromedp.SendKeys(`#utente`, user, chromedp.ByID),
		chromedp.SendKeys(`#parola`, pass, chromedp.ByID),
		chromedp.Click(`#entra-locale`, chromedp.ByID),
		chromedp.WaitVisible(`#sfoglia`, chromedp.ByID),
	}
}
