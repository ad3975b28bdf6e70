package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bassareggiana/faldone/state"
)

var _ state.AccountStore = (*Store)(nil)

const accountColumns = `name, password_hash, created, updated`

// CreateAccount stores a new account, or returns ErrExists if the name is
// in use.
func (s *Store) CreateAccount(ctx context.Context, a state.Account) error {
	if err := checkAccount(a); err != nil {
		return fmt.Errorf("sqlite: create account %q: %w", a.Name, err)
	}
	// ON CONFLICT rather than reading the driver's error: no row inserted
	// means exactly that the name is taken, where a constraint error could
	// come from any constraint. The check and the insert are one statement,
	// so two concurrent creations cannot both succeed.
	res, err := s.w.ExecContext(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO NOTHING`,
		a.Name, a.PasswordHash, a.Created.UnixNano(), a.Updated.UnixNano())
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = state.ErrExists
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: create account %q: %w", a.Name, err)
	}
	return nil
}

// Account returns the account with the name.
func (s *Store) Account(ctx context.Context, name string) (state.Account, error) {
	a, err := scanAccount(s.rd.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = state.ErrNotFound
	}
	if err != nil {
		return state.Account{}, fmt.Errorf("sqlite: account %q: %w", name, err)
	}
	return a, nil
}

// Accounts returns every account, by name in byte order: the BINARY
// collation of the primary key, whose index gives the order.
func (s *Store) Accounts(ctx context.Context) ([]state.Account, error) {
	rows, err := s.rd.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: accounts: %w", err)
	}
	defer rows.Close()
	var as []state.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: accounts: %w", err)
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: accounts: %w", err)
	}
	return as, nil
}

// SetAccountPassword replaces the account's password hash and records the
// change at at. Created stays as it was.
func (s *Store) SetAccountPassword(ctx context.Context, name, hash string, at time.Time) error {
	// The name needs no check: one that CreateAccount refuses matches no
	// account, and is ErrNotFound like any other missing one.
	if hash == "" || at.IsZero() {
		return fmt.Errorf("sqlite: set password of account %q: the hash and the time must be set", name)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE accounts SET password_hash = ?, updated = ? WHERE name = ?`,
		hash, at.UnixNano(), name)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: set password of account %q: %w", name, err)
	}
	return nil
}

// DeleteAccount removes the account with the name.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM accounts WHERE name = ?`, name)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete account %q: %w", name, err)
	}
	return nil
}

// checkAccount refuses what a store must not hold. An empty name could not
// be told from a missing one, and an empty hash is a caller's bug (no
// password matches it), not a way to disable an account. A zero time has no
// unix nanoseconds: time.UnixNano is undefined for it. A name that is not
// UTF-8, or holds a NUL, cannot be stored in PostgreSQL's text, and is
// refused here too so that the stores agree on which names can exist.
func checkAccount(a state.Account) error {
	switch name := a.Name; {
	case name == "":
		return errors.New("the name must be set")
	case !utf8.ValidString(name):
		return errors.New("the name is not valid UTF-8")
	case strings.ContainsRune(name, 0):
		return errors.New("the name holds a NUL")
	case a.PasswordHash == "":
		return errors.New("the password hash must be set")
	case a.Created.IsZero() || a.Updated.IsZero():
		return errors.New("Created and Updated must be set")
	}
	return nil
}

// scanAccount reads an account selected as accountColumns.
func scanAccount(row interface{ Scan(...any) error }) (state.Account, error) {
	var (
		a                state.Account
		created, updated int64
	)
	if err := row.Scan(&a.Name, &a.PasswordHash, &created, &updated); err != nil {
		return state.Account{}, err
	}
	a.Created, a.Updated = utc(created), utc(updated)
	return a, nil
}
