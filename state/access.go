package state

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Person is what the store remembers of someone who signed in: the groups
// their provider gave at the last sign-in, so that roles derived from groups
// also apply to requests made with app passwords, and the e-mail address
// their provider gave, for the service's e-mails.
type Person struct {
	Key        string // normalized fiscal number, or a local account name
	Display    string
	Groups     []string // in the provider's order; nil and empty are the same
	LastSignIn time.Time
	// Email is the address of the latest sign-in that gave one; "" when
	// none did.
	Email string
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
	// Email is where the grant's e-mails go, as the granter typed it for
	// a grantee who may never have signed in; "" for the address the
	// grantee's provider gave (Person.Email).
	Email string
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
	ID int64 // assigned by the store, increasing, never reused
	// Key identifies the record wherever it travels: a record appended
	// again with a Key the log holds is not stored twice. "" for none.
	Key         string
	Time        time.Time
	RequestID   string
	Person      string // "" when the request did not authenticate
	Credential  string // which credential: an app password's id, "session", "bearer", "local:NAME"
	Client      string // client address
	Method      string
	Path        string // the decoded namespace path
	Target      string // the request target as the client sent it, still escaped ("" for the pages' own records)
	Destination string
	Comune      string
	Status      int
	Bytes       int64
	SHA256      string // of the file a write stored, in hexadecimal; "" for other requests
}

// Valid returns r with every text field as ValidText makes it, the one
// form a record has in every sink: the store, the spool, the JSON lines
// and the exports. The path of a refused request can hold any byte.
func (r AuditRecord) Valid() AuditRecord {
	for _, f := range []*string{&r.Key, &r.RequestID, &r.Person, &r.Credential, &r.Client, &r.Method,
		&r.Path, &r.Target, &r.Destination, &r.Comune, &r.SHA256} {
		*f = ValidText(*f)
	}
	return r
}

// ValidText returns s as every store can hold it: valid UTF-8 without NUL,
// each byte that is not part of a valid UTF-8 sequence and each NUL
// replaced by U+FFFD, byte by byte as encoding/json does, so that the JSON
// lines and the store agree. Valid text comes back as it is, without a copy.
func ValidText(s string) string {
	if IsValidText(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s { // an invalid byte ranges as utf8.RuneError, one byte at a time
		if r == 0 {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
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
	Status     int       // only the records of requests answered with it; 0 selects all
}

// AccessStore keeps people, grants and the audit log.
// statetest.RunAccess is the conformance suite.
type AccessStore interface {
	// UpsertPerson records a sign-in: it stores p, or replaces the Display,
	// Groups and LastSignIn of the person with its key, and their Email
	// when p has one (a sign-in whose provider gave no address keeps the
	// one known). Key and LastSignIn must be set.
	UpsertPerson(ctx context.Context, p Person) error
	// Person returns what is known of key (ErrNotFound).
	Person(ctx context.Context, key string) (Person, error)
	// PeopleWithEmail returns the people whose Email is known, by Key in
	// byte order.
	PeopleWithEmail(ctx context.Context) ([]Person, error)

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
	// changing nothing in recs. Every record must have its Time. A record
	// whose Key the log already holds (from an earlier call, or earlier in
	// recs) is skipped, so that a batch sent again after a failure whose
	// outcome was unknown is stored once; records without a Key are all
	// stored. Text is stored as ValidText makes it.
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

// IsValidText reports whether every store holds s as it is: valid UTF-8
// without NUL. A key that is not is in no store.
func IsValidText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
