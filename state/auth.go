package state

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound: no live record has the key (missing, expired or revoked).
var ErrNotFound = errors.New("not found")

// Session is a signed-in browser session. ID is the hex SHA-256 of the
// cookie's secret value, so that the store never holds a usable cookie.
type Session struct {
	ID      string
	Person  string // the person's key: normalized fiscal number, or a local account name
	Display string // the name pages show
	ACR     string // level of assurance of the sign-in
	// Issuer is the OpenID Provider that signed the person in, whose
	// logout the browser visits on signing out; empty for local accounts.
	// The ID token itself is not kept (it would be a Bearer-shaped secret
	// at rest): the stores keep this in the column named id_token, which
	// once held it, so that no schema change is needed.
	Issuer   string
	CSRF     string // the session's anti-CSRF token
	Created  time.Time
	LastSeen time.Time // for the idle limit, which the caller applies
	Expires  time.Time // the absolute limit
}

// AppPassword is a password a person creates for one device (a mapped
// drive). Only a keyed hash of the secret is stored.
type AppPassword struct {
	ID       string // public identifier, shown on the personal page
	Owner    string // the person's key
	Name     string // the device, as the person named it
	Hash     []byte // HMAC-SHA256 of the secret under the server's key
	ReadOnly bool
	Comuni   []string  // the Comuni it may reach, in order; empty (nil or not): all the owner's
	Created  time.Time //
	Expires  time.Time // zero: never
	LastUsed time.Time // zero: never used
}

// AuthStore keeps what authentication needs: sessions, pending sign-in
// flows and app passwords. Every replica reads it, so a revocation takes
// effect everywhere at the next request.
//
// A record expires at its Expires instant: it is live at now only while now
// is before Expires. statetest.RunAuth is the conformance suite.
type AuthStore interface {
	// CreateSession stores a new session; an ID in use is an error.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with the id unless it is past Expires at now.
	Session(ctx context.Context, id string, now time.Time) (Session, error)
	// TouchSession records activity at the given time. LastSeen never
	// moves backwards; a missing session is ErrNotFound.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// DeleteSession ends a session; a missing one is not an error.
	DeleteSession(ctx context.Context, id string) error

	// SaveFlow stores the opaque data of a pending sign-in under its state
	// value until expires.
	SaveFlow(ctx context.Context, state string, data []byte, expires time.Time) error
	// TakeFlow returns and deletes the flow in one step, so that a state
	// value works once; an unknown or expired one is ErrNotFound.
	TakeFlow(ctx context.Context, state string, now time.Time) ([]byte, error)

	// CreateAppPassword stores an app password; ID and Hash must be unique.
	CreateAppPassword(ctx context.Context, p AppPassword) error
	// AppPasswordByHash finds the live (unexpired at now) app password with
	// the hash.
	AppPasswordByHash(ctx context.Context, hash []byte, now time.Time) (AppPassword, error)
	// AppPasswords lists the owner's app passwords, expired ones included,
	// newest first.
	AppPasswords(ctx context.Context, owner string) ([]AppPassword, error)
	// DeleteAppPassword revokes the owner's app password with the id,
	// expired or not; an id that is not the owner's is ErrNotFound.
	DeleteAppPassword(ctx context.Context, owner, id string) error
	// TouchAppPasswords records last-use times in one write, for a batch
	// gathered in memory (no write on every request). LastUsed never moves
	// backwards; unknown ids are ignored.
	TouchAppPasswords(ctx context.Context, used map[string]time.Time) error

	// AddAttempt counts one attempt under key (the throttling of password
	// guesses), in a fixed window: the first attempt starts a window of the
	// given length, and the first one at or after its end starts a new one.
	// It returns the count in the window, this attempt included, and the
	// window's end. The read and the increment are one atomic step across
	// every user of the store, so that concurrent attempts, on one replica or
	// several, each get a count of their own. key is printable ASCII.
	AddAttempt(ctx context.Context, key string, now time.Time, window time.Duration) (count int, ends time.Time, err error)
	// Attempts returns the count under key in the window live at now (0
	// when there is none), without counting.
	Attempts(ctx context.Context, key string, now time.Time) (int, error)
	// ClearAttempts forgets the attempts under key; a missing key is not an
	// error.
	ClearAttempts(ctx context.Context, key string) error
}
