package state

import (
	"context"
	"time"
)

// Person is what the store remembers of someone who signed in: the groups
// their provider gave at the last sign-in, so that roles derived from groups
// also apply to requests made with app passwords.
type Person struct {
	Key        string // normalized fiscal number, or a local account name
	Display    string
	Groups     []string // in the provider's order; nil and empty are the same
	LastSignIn time.Time
}

// Grant gives one person read (or write) access to one subtree, typically a
// dossier, until it expires: the answer to an accesso agli atti request.
type Grant struct {
	ID        string
	Person    string // the grantee's key
	Path      string // namespace path of the subtree
	Comune    string // the Comune of Path, for managers' listings
	Write     bool
	Reason    string // the protocol number of the request
	GrantedBy string // the manager's key
	Created   time.Time
	Expires   time.Time // never zero: grants are time-limited
}

// GrantFilter selects grants; empty fields select all. Person and Comune
// are compared exactly.
type GrantFilter struct {
	Person string
	Comune string
	// Live keeps only grants not expired at Now (Expires after Now). Live
	// with a zero Now is an error, as every grant would pass; without Live,
	// Now is ignored.
	Live bool
	Now  time.Time
}

// AuditRecord is one access to the archive, or one refusal.
type AuditRecord struct {
	ID          int64 // assigned by the store, increasing, never reused
	Time        time.Time
	RequestID   string
	Person      string // "" when the request did not authenticate
	Credential  string // which credential: an app password's id, "session", "bearer", "local:NAME"
	Client      string // client address
	Method      string
	Path        string
	Destination string
	Comune      string
	Status      int
	Bytes       int64
}

// AuditFilter selects audit records; empty fields select all. Comune and
// Person are compared exactly, so "" cannot select the records of requests
// that did not authenticate.
type AuditFilter struct {
	Comune     string
	Person     string
	PathPrefix string    // a namespace path: the records of it and below it; "/" selects all
	Since      time.Time // inclusive
	Until      time.Time // exclusive
}

// AccessStore keeps people, grants and the audit log.
// statetest.RunAccess is the conformance suite.
type AccessStore interface {
	// UpsertPerson records a sign-in: it stores p, or replaces the Display,
	// Groups and LastSignIn of the person with its key. Key and LastSignIn
	// must be set.
	UpsertPerson(ctx context.Context, p Person) error
	// Person returns what is known of key (ErrNotFound).
	Person(ctx context.Context, key string) (Person, error)

	// CreateGrant stores a grant; an ID in use is ErrExists. A grant
	// without Expires is refused: grants are time-limited.
	CreateGrant(ctx context.Context, g Grant) error
	// Grants lists grants by the filter, newest first (by Created, then by
	// ID in byte order). It runs on every request, for the person's live
	// grants.
	Grants(ctx context.Context, f GrantFilter) ([]Grant, error)
	// DeleteGrant revokes a grant, expired or not (ErrNotFound).
	DeleteGrant(ctx context.Context, id string) error

	// AppendAudit adds records in one write, all or none; the store
	// assigns their IDs, in the order given, ignoring the ID fields and
	// changing nothing in recs. Every record must have its Time.
	AppendAudit(ctx context.Context, recs []AuditRecord) error
	// Audit calls fn for each record the filter selects, oldest first,
	// until fn returns an error, which Audit returns. Oldest means first
	// appended (by ID), which is by Time only as far as the clocks of the
	// writers agree. Records stream rather than load at once, and the
	// store takes writes while fn runs; fn may call the store.
	Audit(ctx context.Context, f AuditFilter, fn func(AuditRecord) error) error
	// DeleteAuditBefore removes records whose Time is before t (retention);
	// t must be set. It is the only way records leave the log, and there is
	// none to change them.
	DeleteAuditBefore(ctx context.Context, t time.Time) error
}
