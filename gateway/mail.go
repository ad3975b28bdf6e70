package gateway

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/gateway/notices"
	"github.com/bassareggiana/faldone/notify"
)

// Notices makes the service's e-mails of the configuration's mail
// section, sent through its SMTP server, over st; nil when mail is off.
// manages lists the Comuni a person manages, for the summaries (nil: the
// command line's, which sends grant messages only); holder names the
// process in the notices' lease.
func Notices(cfg config.Config, st notices.Store, manages func(ctx context.Context, person string) ([]string, error), holder string, log *slog.Logger) (*notices.Notices, error) {
	m := cfg.Mail
	if !m.Enabled() {
		return nil, nil
	}
	password, err := m.ReadPassword()
	if err != nil {
		return nil, err
	}
	var roots *x509.CertPool
	if m.CAFile != "" {
		pem, err := os.ReadFile(m.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mail.ca_file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mail.ca_file %s: no PEM certificate in it", m.CAFile)
		}
	}
	// EHLO names the service as people reach it, which relays that check
	// the name accept more readily than "localhost".
	local := "localhost"
	if u, err := url.Parse(m.PublicURL); err == nil && u.Hostname() != "" {
		local = u.Hostname()
	}
	sender, err := notify.NewSMTP(notify.Options{
		Host: m.SMTPHost, Port: m.SMTPPort, TLS: m.TLS, Username: m.Username, Password: password,
		From: m.FromAddress, LocalName: local, RootCAs: roots, Timeout: m.Timeout,
	})
	if err != nil {
		return nil, err
	}
	var comuni []notices.Comune
	for _, c := range cfg.Comuni {
		comuni = append(comuni, notices.Comune{ID: c.ID, Name: c.Name})
	}
	p := cfg.Pages
	return notices.New(st, sender, notices.Options{
		Site: notify.Site{Service: p.Service, Owner: p.Owner, PublicURL: m.PublicURL,
			HelpText: p.HelpText, HelpEmail: p.HelpEmail, HelpPhone: p.HelpPhone},
		Comuni:          comuni,
		Location:        cfg.Location,
		WarningDays:     m.ExpiryWarningDays,
		SummaryHour:     m.SummaryHour,
		SummaryInterval: m.SummaryInterval,
		SummaryDisabled: m.SummaryDisabled || manages == nil,
		CheckInterval:   m.CheckInterval,
		Manages:         manages,
		Holder:          holder,
		// notify.SMTP's three attempts, 5 and 10 seconds apart.
		SendBound: 3*m.Timeout + 15*time.Second,
		Log:       log,
	}), nil
}
