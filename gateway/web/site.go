package web

import (
	"net/http"
	"strconv"
	"time"
)

// Site is what every page says of the service: who runs it, where to ask
// for help, and what the accessibility statement and the privacy notice
// say (config's pages).
type Site struct {
	Owner, OwnerURL, Service       string
	HelpText, HelpEmail, HelpPhone string
	AccessibilityURL               string
	AccessibilityEmail             string
	PrivacyController              string
	PrivacyDPOEmail                string
	// AuditRetention is how long the access log is kept, for the privacy
	// notice.
	AuditRetention time.Duration
}

// Provider is a SPID identity provider the sign-in page offers, when the
// broker takes a hint of which one a person chose.
type Provider struct {
	Name, Hint string
}

// retentionText writes a retention as the privacy notice does: "12 mesi",
// "400 giorni".
func retentionText(d time.Duration) string {
	days := int(d.Hours() / 24)
	switch {
	case days <= 0:
		return ""
	case days%365 == 0:
		if days == 365 {
			return "un anno"
		}
		return strconv.Itoa(days/365) + " anni"
	case days%30 == 0:
		return strconv.Itoa(days/30) + " mesi"
	}
	return strconv.Itoa(days) + " giorni"
}

// The service's own pages, for everyone, signed in or not: the statement
// and the notice must be readable before signing in.

func (h *Handler) accessibility(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "accessibilita.html", struct{ page }{h.openPage(r, "Dichiarazione di accessibilità")})
}

func (h *Handler) privacy(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "privacy.html", struct {
		page
		Retention string
	}{h.openPage(r, "Informativa privacy"), retentionText(h.cfg.Site.AuditRetention)})
}

// openPage is the page data of a page anyone may read: with the session's
// header when there is one.
func (h *Handler) openPage(r *http.Request, title string) page {
	pg := page{Title: title}
	if sess := h.sessionOf(r); sess != nil {
		pg.Session, pg.CSRF = sess, sess.CSRF
	}
	return pg
}
