package grants

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/audit"
	"github.com/bassareggiana/faldone/auth/oidc"
	"github.com/bassareggiana/faldone/gateway/days"
	"github.com/bassareggiana/faldone/notify"
	"github.com/bassareggiana/faldone/state"
)

// The refusals of a grant request besides its dossier's.
var (
	// ErrBadPerson: the grantee is not a fiscal number.
	ErrBadPerson = errors.New("not a fiscal number")
	// ErrBadUntil: the last day is not a day, or not within MaxDuration.
	ErrBadUntil = errors.New("the last day must be a day from today to two years on")
	// ErrBadReason: no protocol number, or one over MaxReason characters.
	ErrBadReason = errors.New("the protocol number of the request is required, at most 200 characters")
	// ErrBadEmail: an e-mail address was given, and it is none.
	ErrBadEmail = errors.New("not an e-mail address")
	// ErrNoGrant: no grant with the id where the revoker may revoke.
	ErrNoGrant = errors.New("no such grant")
	// ErrNotAudited: the change was made, but its record did not reach the
	// access log.
	ErrNotAudited = errors.New("grant change not recorded in the access log")
)

const (
	// MaxReason bounds the protocol number, in characters.
	MaxReason = 200
	// MaxYears bounds how far a grant may reach: accesso agli atti is
	// for a purpose, not for ever.
	MaxYears = 2
)

// Store keeps the grants.
type Store interface {
	CreateGrant(ctx context.Context, g state.Grant) error
	Grants(ctx context.Context, f state.GrantFilter) ([]state.Grant, error)
	DeleteGrant(ctx context.Context, id string) error
}

// Actor is who makes or revokes a grant, as the access log records them.
type Actor struct {
	Person, Credential, Client, RequestID string
}

// Request is a grant as the granter typed it.
type Request struct {
	Person string // the grantee's fiscal number
	Path   string // the dossier
	Until  string // the last day, YYYY-MM-DD, in the service's zone
	Reason string // the protocol number of the access request
	Write  bool
	// Email is where the grant's e-mails go, for a grantee who may never
	// have signed in; "" for the address their provider gave.
	Email string
}

// Notifier tells a grantee of a grant just made. A failure is its own to
// log: it never undoes nor fails the grant.
type Notifier interface {
	Granted(ctx context.Context, g state.Grant)
}

// Service makes and revokes grants with one set of rules, for the
// managers' page and the command line alike, and records every change in
// the access log.
type Service struct {
	Store    Store
	Archive  Archive
	Audit    audit.Recorder
	Location *time.Location // where days are days
	Now      func() time.Time
	// Notify, when set, tells each grantee of their grant (the service's
	// e-mail).
	Notify Notifier
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Grant checks req and stores the grant, by who; may tells the Comuni
// where who may grant. Its errors are this package's, or the store's.
func (s *Service) Grant(ctx context.Context, req Request, who Actor, may func(comune string) bool) (state.Grant, error) {
	cf, err := oidc.NormalizeFiscalNumber(strings.TrimSpace(req.Person))
	if err != nil {
		return state.Grant{}, fmt.Errorf("%q: %w", req.Person, ErrBadPerson)
	}
	p, comune, err := Dossier(ctx, s.Archive, req.Path, may)
	if err != nil {
		return state.Grant{}, err
	}
	now := s.now()
	until, err := days.End(strings.TrimSpace(req.Until), s.Location)
	if err != nil || !until.After(now) || until.After(now.AddDate(MaxYears, 0, 1)) {
		return state.Grant{}, fmt.Errorf("%q: %w", req.Until, ErrBadUntil)
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" || len([]rune(reason)) > MaxReason {
		return state.Grant{}, ErrBadReason
	}
	email := ""
	if strings.TrimSpace(req.Email) != "" {
		if email, err = notify.Address(req.Email); err != nil {
			return state.Grant{}, ErrBadEmail // the address is personal data: not in the error
		}
	}
	var b [8]byte
	rand.Read(b[:])
	g := state.Grant{ID: "g-" + hex.EncodeToString(b[:]), Person: cf, Path: p, Comune: comune, Write: req.Write,
		Reason: reason, GrantedBy: who.Person, Created: now.UTC(), Expires: until.UTC(), Email: email}
	if err := s.Store.CreateGrant(ctx, g); err != nil {
		return state.Grant{}, err
	}
	err = s.record(who, "GRANT", g, http.StatusCreated)
	if s.Notify != nil {
		s.Notify.Granted(ctx, g)
	}
	return g, err
}

// Revoke ends the grant with the id, if it is in a Comune where who may
// revoke.
func (s *Service) Revoke(ctx context.Context, id string, who Actor, may func(comune string) bool) (state.Grant, error) {
	gs, err := s.Store.Grants(ctx, state.GrantFilter{})
	if err != nil {
		return state.Grant{}, err
	}
	i := slices.IndexFunc(gs, func(g state.Grant) bool { return g.ID == id && may(g.Comune) })
	if i < 0 {
		return state.Grant{}, fmt.Errorf("%q: %w", id, ErrNoGrant)
	}
	g := gs[i]
	if err := s.Store.DeleteGrant(ctx, id); errors.Is(err, state.ErrNotFound) {
		return state.Grant{}, fmt.Errorf("%q: %w", id, ErrNoGrant)
	} else if err != nil {
		return state.Grant{}, err
	}
	return g, s.record(who, "REVOKE", g, http.StatusNoContent)
}

// record puts a change to the grants in the access log.
func (s *Service) record(who Actor, method string, g state.Grant, status int) error {
	err := s.Audit.Record(state.AuditRecord{Time: s.now().UTC(), RequestID: who.RequestID, Person: who.Person,
		Credential: who.Credential, Client: who.Client, Method: method, Path: g.Path, Comune: g.Comune, Status: status})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotAudited, err)
	}
	return nil
}
