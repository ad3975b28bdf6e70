// Package notices decides which of the service's e-mails go out, when, and
// to whom, and sends each once: the message to a technician granted a
// dossier, the warning a few days before a grant ends, and the managers'
// daily summary of the requests refused in their Comuni. It composes
// through package notify and records every e-mail in the state store's
// notices, claimed before it is sent and finished after, so that neither
// a restart nor a second replica sends one twice. The periodic checks run
// on one replica at a time, under a lease.
package notices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bassareggiana/faldone/gateway/days"
	"github.com/bassareggiana/faldone/notify"
	"github.com/bassareggiana/faldone/state"
)

// Sender sends one message (notify.SMTP does).
type Sender interface {
	Send(ctx context.Context, m notify.Message) error
}

// Store is what the notices read and keep.
type Store interface {
	state.NoticeStore
	TakeLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	Person(ctx context.Context, key string) (state.Person, error)
	PeopleWithEmail(ctx context.Context) ([]state.Person, error)
	Grants(ctx context.Context, f state.GrantFilter) ([]state.Grant, error)
	DossierByPath(ctx context.Context, p string) (state.Dossier, error)
	Audit(ctx context.Context, f state.AuditFilter, fn func(state.AuditRecord) error) error
}

// The kinds of notices.
const (
	KindGrant   = "grant"   // key: the grant's id
	KindExpiry  = "expiry"  // key: the grant's id
	KindSummary = "summary" // key: the period's end (RFC 3339, UTC) and the recipient's key
	// KindPeriod marks a summary period whose every message is done,
	// so that later checks do not read its refusals again.
	KindPeriod = "summary-period" // key: the period's end
)

// Lease is the lease of the periodic checks.
const Lease = "notices"

// MaxAttempts bounds the sendings of one message that failed (each of
// them tried up to the sender's own attempts).
const MaxAttempts = 3

// summaryKeep is how long the notices of a summary are kept.
const summaryKeep = 40 * 24 * time.Hour

// Comune is a Comune as the messages name it.
type Comune struct{ ID, Name string }

// Options configure the notices.
type Options struct {
	Site     notify.Site
	Comuni   []Comune
	Location *time.Location // the service's zone: days, the summary's hour
	// WarningDays is how many days before a grant's last day its warning
	// goes out; 0: none.
	WarningDays int
	// SummaryHour is when the daily summary goes out; SummaryInterval,
	// when set, makes it a summary every interval instead.
	SummaryHour     int
	SummaryInterval time.Duration
	SummaryDisabled bool
	// CheckInterval is how often Run looks for what is due.
	CheckInterval time.Duration
	// Manages lists the Comuni a person manages (auth/access.Rules).
	Manages func(ctx context.Context, person string) ([]string, error)
	// Holder names this process in the lease.
	Holder string
	// SendBound is the longest one message's sending may take, its
	// retries included; the lease lasts well beyond it.
	SendBound time.Duration
	Log       *slog.Logger
	Now       func() time.Time
}

// Notices sends the service's e-mails.
type Notices struct {
	st    Store
	send  Sender
	o     Options
	names map[string]string
	// pending are the grant messages sent in the background (Later).
	pending sync.WaitGroup
}

// New returns the notices of st, sent through send.
func New(st Store, send Sender, o Options) *Notices {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = 10 * time.Minute
	}
	names := map[string]string{}
	for _, c := range o.Comuni {
		names[c.ID] = c.Name
	}
	return &Notices{st: st, send: send, o: o, names: names}
}

// Granted sends the message of a grant just made to its grantee, and
// waits for it: the command line's way (grants.Notifier). A failure is
// logged, and tried again by the periodic checks while attempts remain.
func (n *Notices) Granted(ctx context.Context, g state.Grant) {
	n.grantMessage(ctx, g, slog.LevelInfo)
}

// Later returns a grants.Notifier that sends in the background, within
// ctx, so that the page that made the grant does not wait for the SMTP
// server; Wait waits for those under way.
func (n *Notices) Later(ctx context.Context) Later { return Later{n: n, ctx: ctx} }

// Later sends grant messages in the background.
type Later struct {
	n   *Notices
	ctx context.Context
}

// Granted starts sending the grant's message.
func (l Later) Granted(_ context.Context, g state.Grant) {
	l.n.pending.Add(1)
	go func() {
		defer l.n.pending.Done()
		l.n.grantMessage(l.ctx, g, slog.LevelInfo)
	}()
}

// Wait waits for the grant messages under way.
func (n *Notices) Wait() { n.pending.Wait() }

// grantMessage sends the grant's message, once; quiet is the level at
// which a grantee without an address is logged.
func (n *Notices) grantMessage(ctx context.Context, g state.Grant, quiet slog.Level) {
	n.deliver(ctx, KindGrant, g.ID, g.Expires, g, quiet, func(to string) (notify.Message, error) {
		info, err := n.grantInfo(ctx, g)
		return notify.GrantMessage(n.o.Site, to, info), err
	})
}

// deliver sends the message of a grant (kind KindGrant or KindExpiry),
// to the grant's address or else the grantee's, claiming its notice
// first. Without an address nothing is claimed, so that a grantee who
// signs in later still gets the message; that is logged at quiet.
func (n *Notices) deliver(ctx context.Context, kind, key string, expires time.Time, g state.Grant, quiet slog.Level, compose func(to string) (notify.Message, error)) {
	log := n.o.Log.With("notice", kind, "grant", g.ID)
	if due, err := n.due(ctx, kind, key); err != nil || !due {
		if err != nil {
			log.Error("e-mail: the notice could not be read", "err", err)
		}
		return
	}
	to, err := n.recipient(ctx, g)
	if err != nil {
		log.Error("e-mail: the grantee's address could not be read", "err", err)
		return
	}
	if to == "" {
		log.Log(ctx, quiet, "e-mail not sent: no address for the grantee (none given with the grant, none from a sign-in)")
		return
	}
	m, err := compose(to)
	if err != nil {
		log.Error("e-mail: the message could not be composed", "err", err)
		return
	}
	n.claimAndSend(ctx, log, kind, key, expires, m)
}

// due reports whether the notice may be sent: never claimed, or failed
// with attempts left. ClaimNotice decides; this spares the work of a
// message that is done.
func (n *Notices) due(ctx context.Context, kind, key string) (bool, error) {
	nt, err := n.st.Notice(ctx, kind, key)
	if errors.Is(err, state.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return nt.State == state.NoticeFailed && nt.Attempts < MaxAttempts, nil
}

// claimAndSend claims the notice, sends m and records the outcome. It
// reports whether the notice is done with: sent, refused for good, or
// not this caller's to send.
func (n *Notices) claimAndSend(ctx context.Context, log *slog.Logger, kind, key string, expires time.Time, m notify.Message) bool {
	ok, err := n.st.ClaimNotice(ctx, kind, key, MaxAttempts, n.o.Now(), expires)
	if err != nil {
		log.Error("e-mail: the notice could not be claimed", "err", err)
		return false
	}
	if !ok {
		return true // sent, being sent, or given up: not ours
	}
	serr := n.send.Send(ctx, m)
	outcome := state.NoticeSent
	var se *notify.SendError
	switch {
	case errors.As(serr, &se) && se.Permanent:
		outcome = state.NoticeRefused // the server will not take it: never again
	case serr != nil:
		outcome = state.NoticeFailed
	}
	// Recorded even when ctx ended: the outcome is known, and a failure
	// must be tried again rather than left "sending".
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := n.st.FinishNotice(fctx, kind, key, outcome, n.o.Now()); err != nil {
		log.Error("e-mail: its outcome could not be recorded", "outcome", outcome, "err", err)
	}
	if serr != nil {
		log.Error("e-mail not sent", "to", notify.Mask(m.To), "outcome", outcome, "err", serr)
		return outcome == state.NoticeRefused // done with, for a summary's period
	}
	log.Info("e-mail sent", "to", notify.Mask(m.To))
	return true
}

// recipient is where the grant's messages go: the address given with it,
// or else the one of the grantee's sign-ins.
func (n *Notices) recipient(ctx context.Context, g state.Grant) (string, error) {
	if g.Email != "" {
		return g.Email, nil
	}
	p, err := n.st.Person(ctx, g.Person)
	if errors.Is(err, state.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return p.Email, nil
}

// grantInfo is the grant as its messages tell it, with the dossier's
// number and subject when the catalogue has its record.
func (n *Notices) grantInfo(ctx context.Context, g state.Grant) (notify.Grant, error) {
	d := notify.Dossier{Path: g.Path, Comune: n.names[g.Comune]}
	rec, err := n.st.DossierByPath(ctx, g.Path)
	switch {
	case err == nil:
		d.Number, d.Subject = rec.Number, rec.Subject
	case !errors.Is(err, state.ErrNotFound):
		return notify.Grant{}, fmt.Errorf("the dossier's record: %w", err)
	}
	return notify.Grant{Dossier: d, Write: g.Write, LastDay: days.Last(g.Expires, n.o.Location), Reason: g.Reason, Person: g.Person}, nil
}

// Run checks every CheckInterval, until ctx ends, for the messages due:
// grant messages to try again, warnings, summaries. Only the replica that
// holds the lease checks.
func (n *Notices) Run(ctx context.Context) {
	t := time.NewTicker(n.o.CheckInterval)
	defer t.Stop()
	for {
		n.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// leaseTTL is how long a check holds the lease without renewing it: it
// renews it every minute, between messages, whose sending is bounded by
// SendBound.
func (n *Notices) leaseTTL() time.Duration { return max(10*time.Minute, 2*n.o.SendBound+time.Minute) }

// Check is one check, if this replica gets the lease.
func (n *Notices) Check(ctx context.Context) {
	ok, err := n.st.TakeLease(ctx, Lease, n.o.Holder, n.leaseTTL(), n.o.Now())
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			n.o.Log.Error("e-mail: the notices' lease", "err", err)
		}
		return
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := n.st.ReleaseLease(rctx, Lease, n.o.Holder); err != nil {
			n.o.Log.Error("e-mail: release the notices' lease", "err", err)
		}
	}()
	l := &held{n: n, at: time.Now()}
	if err := n.grants(ctx, l); err != nil && ctx.Err() == nil {
		n.o.Log.Error("e-mail: grants and warnings", "err", err)
	}
	if err := n.summary(ctx, l); err != nil && ctx.Err() == nil {
		n.o.Log.Error("e-mail: summary of refusals", "err", err)
	}
}

// held is the lease of one check.
type held struct {
	n  *Notices
	at time.Time // when it was last taken or renewed
}

// alive keeps the lease through a long check, renewing it when a minute
// has passed since it was last; false when it is lost, or ctx ended.
func (l *held) alive(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	if time.Since(l.at) < time.Minute {
		return true
	}
	ok, err := l.n.st.TakeLease(ctx, Lease, l.n.o.Holder, l.n.leaseTTL(), l.n.o.Now())
	if err != nil || !ok {
		return false
	}
	l.at = time.Now()
	return true
}

// grants sends, for the live grants, the grant messages that failed and
// may be tried again, and the warnings due.
func (n *Notices) grants(ctx context.Context, l *held) error {
	now := n.o.Now()
	gs, err := n.st.Grants(ctx, state.GrantFilter{Live: true, Now: now})
	if err != nil {
		return err
	}
	slices.SortFunc(gs, func(a, b state.Grant) int { return a.Expires.Compare(b.Expires) })
	for _, g := range gs {
		if !l.alive(ctx) {
			return ctx.Err()
		}
		// In the day after a grant, its message if it failed, or could
		// not go out yet: a grant made by a command without mail, a
		// grantee who has signed in since.
		if now.Sub(g.Created) < 24*time.Hour {
			n.grantMessage(ctx, g, slog.LevelDebug)
		}
		if n.warningDue(g, now) {
			n.deliver(ctx, KindExpiry, g.ID, g.Expires, g, slog.LevelDebug, func(to string) (notify.Message, error) {
				info, err := n.grantInfo(ctx, g)
				return notify.ExpiryMessage(n.o.Site, to, info, now), err
			})
		}
	}
	return nil
}

// warningDue reports whether g's warning is due at now: from WarningDays
// days before its last day, in the service's zone.
func (n *Notices) warningDue(g state.Grant, now time.Time) bool {
	if n.o.WarningDays <= 0 {
		return false
	}
	from := days.Last(g.Expires, n.o.Location).AddDate(0, 0, -n.o.WarningDays)
	return !now.Before(from) && now.Before(g.Expires)
}
