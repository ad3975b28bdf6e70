package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/state"
)

const lockColumns = `token, root, infinite, shared, owner, principal, timeout_ns, expires, created`

// CreateLock stores l unless it conflicts with a lock live at l.Created.
func (s *Store) CreateLock(ctx context.Context, l state.Lock) error {
	if l.Created.IsZero() {
		return fmt.Errorf("sqlite: create lock on %q: no creation time", l.Root)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		// Purge the locks dead at l.Created: nothing else removes the
		// locks that clients let expire, and none of them can be returned
		// again by a caller whose clock has passed l.Created.
		if _, err := tx.ExecContext(ctx, `DELETE FROM locks WHERE expires <= ?`, l.Created.UnixNano()); err != nil {
			return err
		}
		// Locks rooted below l can only conflict with it if it is infinite.
		held, err := liveLocks(ctx, tx, l.Root, l.Infinite, l.Created)
		if err != nil {
			return err
		}
		for _, h := range held {
			if state.Conflicts(h, l) {
				return state.ErrLocked
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO locks (`+lockColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			l.Token, l.Root, l.Infinite, l.Shared, l.Owner, l.Principal,
			int64(l.Timeout), nanos(l.Expires), l.Created.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create lock on %q: %w", l.Root, err)
	}
	return nil
}

// RefreshLock gives the live lock with the token a new timeout from now.
func (s *Store) RefreshLock(ctx context.Context, token string, timeout time.Duration, now time.Time) (state.Lock, error) {
	var expires time.Time
	if timeout != 0 {
		expires = now.Add(timeout)
	}
	var l state.Lock
	err := s.write(ctx, func(tx *sql.Tx) error {
		// RETURNING gives the row as updated.
		row := tx.QueryRowContext(ctx, `UPDATE locks SET timeout_ns = ?, expires = ?
			WHERE token = ? AND (expires IS NULL OR expires > ?)
			RETURNING `+lockColumns,
			int64(timeout), nanos(expires), token, now.UnixNano())
		var err error
		l, err = scanLock(row)
		if errors.Is(err, sql.ErrNoRows) {
			return state.ErrNoSuchLock
		}
		return err
	})
	if err != nil {
		return state.Lock{}, fmt.Errorf("sqlite: refresh lock %q: %w", token, err)
	}
	return l, nil
}

// Lock returns the lock with the token if it is live now, by this process's
// clock.
func (s *Store) Lock(ctx context.Context, token string) (state.Lock, error) {
	row := s.rd.QueryRowContext(ctx, `SELECT `+lockColumns+` FROM locks
		WHERE token = ? AND (expires IS NULL OR expires > ?)`, token, time.Now().UnixNano())
	l, err := scanLock(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = state.ErrNoSuchLock
	}
	if err != nil {
		return state.Lock{}, fmt.Errorf("sqlite: lock %q: %w", token, err)
	}
	return l, nil
}

// DeleteLock removes the lock with the token. It reports ErrNoSuchLock if the
// lock had expired by this process's clock, and removes it all the same.
func (s *Store) DeleteLock(ctx context.Context, token string) error {
	var expires sql.NullInt64
	err := s.w.QueryRowContext(ctx, `DELETE FROM locks WHERE token = ? RETURNING expires`, token).Scan(&expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !live(expires, time.Now())) {
		err = state.ErrNoSuchLock
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete lock %q: %w", token, err)
	}
	return nil
}

// Locks returns the locks live at now rooted at p or at an ancestor of p, and
// those rooted below p if descendants is set.
func (s *Store) Locks(ctx context.Context, p string, descendants bool, now time.Time) ([]state.Lock, error) {
	locks, err := liveLocks(ctx, s.rd, p, descendants, now)
	if err != nil {
		return nil, fmt.Errorf("sqlite: locks of %q: %w", p, err)
	}
	return locks, nil
}

// liveLocks is Locks on q.
func liveLocks(ctx context.Context, q querier, p string, descendants bool, now time.Time) ([]state.Lock, error) {
	roots := append(state.Ancestors(p), p)
	args := make([]any, 0, len(roots)+3)
	for _, r := range roots {
		args = append(args, r)
	}
	query := `SELECT ` + lockColumns + ` FROM locks WHERE (root IN (?` + strings.Repeat(", ?", len(roots)-1) + `)`
	if descendants {
		lo, hi := below(p)
		query += ` OR (root > ? AND root < ?)`
		args = append(args, lo, hi)
	}
	query += `) AND (expires IS NULL OR expires > ?) ORDER BY root, token`
	args = append(args, now.UnixNano())

	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var locks []state.Lock
	for rows.Next() {
		l, err := scanLock(rows)
		if err != nil {
			return nil, err
		}
		locks = append(locks, l)
	}
	return locks, rows.Err()
}

// DeleteLocks removes every lock rooted at p or below it.
func (s *Store) DeleteLocks(ctx context.Context, p string) error {
	lo, hi := below(p)
	if _, err := s.w.ExecContext(ctx,
		`DELETE FROM locks WHERE root = ? OR (root > ? AND root < ?)`, p, lo, hi); err != nil {
		return fmt.Errorf("sqlite: delete locks of %q: %w", p, err)
	}
	return nil
}

// scanLock reads a lock selected as lockColumns.
func scanLock(row interface{ Scan(...any) error }) (state.Lock, error) {
	var (
		l                state.Lock
		timeout, created int64
		expires          sql.NullInt64
	)
	if err := row.Scan(&l.Token, &l.Root, &l.Infinite, &l.Shared, &l.Owner, &l.Principal,
		&timeout, &expires, &created); err != nil {
		return state.Lock{}, err
	}
	l.Timeout = time.Duration(timeout)
	if expires.Valid {
		l.Expires = time.Unix(0, expires.Int64).UTC()
	}
	l.Created = time.Unix(0, created).UTC()
	return l, nil
}

// nanos returns t in unix nanoseconds, or NULL for the zero time (never).
func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// live reports whether a lock expiring at expires (NULL: never) is live at now.
func live(expires sql.NullInt64, now time.Time) bool {
	return !expires.Valid || now.UnixNano() < expires.Int64
}
