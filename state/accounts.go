package state

import (
	"context"
	"errors"
	"time"
)

// ErrExists: a record already has the key.
var ErrExists = errors.New("already exists")

// Account is a local account: a service user, or the demo. People sign in
// with SPID and have none.
type Account struct {
	// Name is the account's key, compared exactly: "Admin" and "admin" are
	// two accounts, and so are two Unicode spellings of one name, as no store
	// normalizes it. It becomes the Person of the account's sessions.
	Name         string
	PasswordHash string // argon2id, in the PHC string format
	Created      time.Time
	Updated      time.Time // the last change of the password
}

// AccountStore keeps the local accounts. It lives in the state store, next
// to the sessions, so that every replica sees a new password or a deleted
// account at once. statetest.RunAccounts is the conformance suite.
type AccountStore interface {
	// CreateAccount stores a new account; a name in use is ErrExists. The
	// name, the hash and both times must be set.
	CreateAccount(ctx context.Context, a Account) error
	// Account returns the account with the name, or ErrNotFound.
	Account(ctx context.Context, name string) (Account, error)
	// Accounts lists every account by name, in byte order (for UTF-8, the
	// order of code points).
	Accounts(ctx context.Context) ([]Account, error)
	// SetAccountPassword replaces the account's hash and sets its Updated to
	// at; a missing account is ErrNotFound.
	SetAccountPassword(ctx context.Context, name, hash string, at time.Time) error
	// DeleteAccount removes the account; a missing one is ErrNotFound, so
	// that a mistyped name is reported rather than taken as done. The
	// account's sessions and app passwords are the caller's to end.
	DeleteAccount(ctx context.Context, name string) error
}
