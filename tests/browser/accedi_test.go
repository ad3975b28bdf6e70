package browser

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestSignInPage: with a broker that takes a provider's hint, the SPID
// button opens the list of providers and CIE has its own; each starts the
// sign-in with its hint; the local form waits behind its disclosure, and a
// wrong password keeps the user name. Saved for the guide at both sizes.
func TestSignInPage(t *testing.T) {
	addr := harness.FreePort(t)
	base := "http://" + addr
	op := harness.StartOIDC(t, harness.OIDCConfig{
		Clients: []harness.OIDCClient{{ID: "faldone", Secret: "segreto-del-client-faldone-0123456789", RedirectURIs: []string{base + "/_/accedi/ritorno"}}},
		Users:   []harness.OIDCUser{{ID: "rossi", FiscalNumber: "TINIT-" + rossiCF, GivenName: "Mario", FamilyName: "Rossi", Level: harness.SpidL2}},
	})
	g := harness.StartServeOn(t, addr, fmt.Sprintf(`oidc:
  issuer: %s
  client_id: faldone
  redirect_url: %s/_/accedi/ritorno
  hint_param: idp_hint
  cie_hint: cie
  identity_providers:
    - {name: Lepida ID, hint: "https://id.lepida.it/idp/shibboleth"}
    - {name: Poste ID, hint: "https://posteid.poste.it"}
`, op.Issuer, base), "FALDONE_OIDC_CLIENT_SECRET=segreto-del-client-faldone-0123456789")

	// The hints travel to the broker; one the page does not offer is refused.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for hint, want := range map[string]int{"https://posteid.poste.it": http.StatusSeeOther, "cie": http.StatusSeeOther, "https://altro.example": http.StatusBadRequest} {
		resp, err := noFollow.Get(g.URL + "/_/accedi/spid?" + url.Values{"idp": {hint}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != want || (want == http.StatusSeeOther && (!strings.HasPrefix(loc.String(), op.Issuer) || loc.Query().Get("idp_hint") != hint)) {
			t.Errorf("sign-in with %q: %d to %q", hint, resp.StatusCode, loc)
		}
	}

	for _, size := range screens {
		ctx := newBrowser(t)
		var providers []string
		var formShown, cie bool
		if err := chromedp.Run(ctx,
			chromedp.EmulateViewport(size.w, size.h),
			chromedp.Navigate(g.URL+"/_/accedi"),
			chromedp.WaitVisible(`#entra-spid`, chromedp.ByID),
			chromedp.Evaluate(`document.getElementById("utente").checkVisibility()`, &formShown),
			chromedp.Evaluate(`document.getElementById("entra-cie") !== null`, &cie),
			chromedp.Click(`#entra-spid`, chromedp.ByID),
			chromedp.WaitVisible(`.spid-gestori`, chromedp.ByQuery),
			chromedp.Evaluate(`[...document.querySelectorAll(".spid-gestori a")].map(a => a.textContent)`, &providers),
		); err != nil {
			t.Fatalf("%s: the sign-in page: %v", size.name, err)
		}
		guideShot(t, ctx, "accedi-"+size.name)
		if formShown || !cie || strings.Join(providers, "|") != "Lepida ID|Poste ID|Non hai SPID?" {
			t.Errorf("%s: local form shown %v, CIE %v, providers %q", size.name, formShown, cie, providers)
		}
		var kept string
		if err := chromedp.Run(ctx,
			chromedp.Click(`#apri-accesso-servizio`, chromedp.ByID),
			chromedp.WaitVisible(`#utente`, chromedp.ByID),
			chromedp.SendKeys(`#utente`, g.User, chromedp.ByID),
			chromedp.SendKeys(`#parola`, "sbagliata", chromedp.ByID),
			chromedp.Click(`#entra-locale`, chromedp.ByID),
			chromedp.WaitVisible(`#errore`, chromedp.ByID),
			chromedp.Value(`#utente`, &kept, chromedp.ByID),
		); err != nil {
			t.Fatalf("%s: a wrong password: %v", size.name, err)
		}
		if kept != g.User {
			t.Errorf("%s: after a wrong password the user name is %q", size.name, kept)
		}
	}
}
