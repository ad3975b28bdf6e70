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
	Groups     []string
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

// GrantFilter selects grants; empty fields select all.
type GrantFilter struct {
	Person string
	Comune string
	// Live keeps only grants not expired at Now.
	Live bool
	Now  time.Time
}

// AuditRecord is one access to the archive, or one refusal.
type AuditRecord struct {
	ID          int64 // assigned by the store, increasing
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

// AuditFilter selects audit records; empty fields select all.
type AuditFilter struct {
	Comune     string
	Person     string
	PathPrefix string // a namespace path: the records of it and below it
	Since      time.Time
	Until      time.Time // exclusive
}

// AccessStore keeps people, grants and the audit log.
type AccessStore interface {
	// UpsertPerson records a sign-in.
	UpsertPerson(ctx context.Context, p Person) error
	// Person returns what is known of key (ErrNotFound).
	Person(ctx context.Context, key string) (Person, error)

	// CreateGrant stores a grant; its ID must be unique.
	CreateGrant(ctx context.Context, g Grant) error
	// Grants lists grants by the filter, newest first.
	Grants(ctx context.Context, f GrantFilter) ([]Grant, error)
	// DeleteGrant revokes a grant (ErrNotFound).
	DeleteGrant(ctx context.Context, id string) error

	// AppendAudit adds records in one write; the store assigns their IDs.
	AppendAudit(ctx context.Context, recs []AuditRecord) error
	// Audit calls fn for each record the filter selects, oldest first,
	// until fn returns an error.
	Audit(ctx context.Context, f AuditFilter, fn func(AuditRecord) error) error
	// DeleteAuditBefore removes records older than t (retention); it is
	// the only way records leave the log.
	DeleteAuditBefore(ctx context.Context, t time.Time) error
}
