package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bassareggiana/faldone/state"
)

const accountColumns = `name, password_hash, created, updated`

// CreateAccount stores a new account, or returns ErrExists if the name is
// in use.
func (s *Store) CreateAccount(ctx context.Context, a state.Account) error {
	if err := checkAccount(a); err != nil {
		return fmt.Errorf("postgres: create account %q: %w", a.Name, err)
	}
	// ON CONFLICT rather than reading the driver's error: no row inserted
	// means exactly that the name is taken, where a constraint error could
	// come from any constraint. Of concurrent creations, the later waits for
	// the earlier to commit and then inserts nothing.
	tag, err := s.pool.Exec(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO NOTHING`,
		a.Name, a.PasswordHash, a.Created, a.Updated)
	if err == nil && tag.RowsAffected() == 0 {
		err = state.ErrExists
	}
	if err != nil {
		return fmt.Errorf("postgres: create account %q: %w", a.Name, err)
	}
	return nil
}

// Account returns the account with the name.
func (s *Store) Account(ctx context.Context, name string) (state.Account, error) {
	var a state.Account
	err := state.ErrNotFound
	if storable(name) { // a name typed at a sign-in form may be anything
		a, err = scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = $1`, name))
		if errors.Is(err, pgx.ErrNoRows) {
			err = state.ErrNotFound
		}
	}
	if err != nil {
		return state.Account{}, fmt.Errorf("postgres: account %q: %w", name, err)
	}
	return a, nil
}

// Accounts returns every account, by name in byte order: the "C" collation
// of the primary key, whose index gives the order.
func (s *Store) Accounts(ctx context.Context) ([]state.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("postgres: accounts: %w", err)
	}
	defer rows.Close()
	var as []state.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: accounts: %w", err)
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: accounts: %w", err)
	}
	return as, nil
}

// SetAccountPassword replaces the account's password hash and records the
// change at at. Created stays as it was.
func (s *Store) SetAccountPassword(ctx context.Context, name, hash string, at time.Time) error {
	if hash == "" || at.IsZero() {
		return fmt.Errorf("postgres: set password of account %q: the hash and the time must be set", name)
	}
	// A name that cannot be stored matches no account, and is ErrNotFound
	// like any other missing one.
	err := state.ErrNotFound
	if storable(name) {
		var tag pgconn.CommandTag
		tag, err = s.pool.Exec(ctx, `UPDATE accounts SET password_hash = $1, updated = $2 WHERE name = $3`,
			hash, at, name)
		if err == nil {
			err = mustAffect(tag)
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: set password of account %q: %w", name, err)
	}
	return nil
}

// DeleteAccount removes the account with the name.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	err := state.ErrNotFound
	if storable(name) {
		var tag pgconn.CommandTag
		tag, err = s.pool.Exec(ctx, `DELETE FROM accounts WHERE name = $1`, name)
		if err == nil {
			err = mustAffect(tag)
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: delete account %q: %w", name, err)
	}
	return nil
}

// checkAccount refuses what the store must not hold, as the SQLite store
// does, so that the stores agree on which accounts can exist. An empty name
// could not be told from a missing one, and an empty hash is a caller's bug
// (no password matches it), not a way to disable an account. A name that is
// not UTF-8, or holds a NUL, could not be stored in text.
func checkAccount(a state.Account) error {
	switch {
	case a.Name == "":
		return errors.New("the name must be set")
	case !storable(a.Name):
		return errors.New("the name is not valid UTF-8 or holds a NUL")
	case a.PasswordHash == "":
		return errors.New("the password hash must be set")
	case a.Created.IsZero() || a.Updated.IsZero():
		return errors.New("Created and Updated must be set")
	}
	return nil
}

// scanAccount reads an account selected as accountColumns.
func scanAccount(row pgx.Row) (state.Account, error) {
	var a state.Account
	if err := row.Scan(&a.Name, &a.PasswordHash, &a.Created, &a.Updated); err != nil {
		return state.Account{}, err
	}
	a.Created, a.Updated = a.Created.UTC(), a.Updated.UTC()
	return a, nil
}
