package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bassareggiana/faldone/state"
)

const lockColumns = `token, root, infinite, shared, owner, principal, timeout_ns, expires, created`

// CreateLock stores l unless it conflicts with a lock live at l.Created.
//
// The check and the insert must be atomic across replicas, and no row lock
// can make them so: the conflicting lock may be on an ancestor or a
// descendant, or not exist yet. So every CreateLock takes one advisory lock
// for its transaction and the others wait for it to commit. Locks are taken
// rarely and the transaction is short, so one lock for the whole tree costs
// little, and it is simple enough to be plainly correct.
func (s *Store) CreateLock(ctx context.Context, l state.Lock) error {
	if l.Created.IsZero() {
		return fmt.Errorf("postgres: create lock on %q: no creation time", l.Root)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, createLockLockKey); err != nil {
			return err
		}
		// Purge the locks dead at l.Created: nothing else removes the
		// locks that clients let expire, and none of them can be returned
		// again by a caller whose clock has passed l.Created.
		if _, err := tx.Exec(ctx, `DELETE FROM locks WHERE expires <= $1`, l.Created); err != nil {
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
		_, err = tx.Exec(ctx, `INSERT INTO locks (`+lockColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			l.Token, l.Root, l.Infinite, l.Shared, l.Owner, l.Principal,
			int64(l.Timeout), nullTime(l.Expires), l.Created)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create lock on %q: %w", l.Root, err)
	}
	return nil
}

// RefreshLock gives the live lock with the token a new timeout from now.
func (s *Store) RefreshLock(ctx context.Context, token string, timeout time.Duration, now time.Time) (state.Lock, error) {
	if !storable(token) {
		return state.Lock{}, fmt.Errorf("postgres: refresh lock %q: %w", token, state.ErrNoSuchLock)
	}
	var expires time.Time
	if timeout != 0 {
		expires = now.Add(timeout)
	}
	// RETURNING gives the row as updated.
	l, err := scanLock(s.pool.QueryRow(ctx, `UPDATE locks SET timeout_ns = $1, expires = $2
		WHERE token = $3 AND (expires IS NULL OR expires > $4)
		RETURNING `+lockColumns,
		int64(timeout), nullTime(expires), token, now))
	if errors.Is(err, pgx.ErrNoRows) {
		err = state.ErrNoSuchLock
	}
	if err != nil {
		return state.Lock{}, fmt.Errorf("postgres: refresh lock %q: %w", token, err)
	}
	return l, nil
}

// Lock returns the lock with the token if it is live now, by the database
// server's clock: the store's clock, which all replicas share.
func (s *Store) Lock(ctx context.Context, token string) (state.Lock, error) {
	if !storable(token) {
		return state.Lock{}, fmt.Errorf("postgres: lock %q: %w", token, state.ErrNoSuchLock)
	}
	l, err := scanLock(s.pool.QueryRow(ctx, `SELECT `+lockColumns+` FROM locks
		WHERE token = $1 AND (expires IS NULL OR expires > now())`, token))
	if errors.Is(err, pgx.ErrNoRows) {
		err = state.ErrNoSuchLock
	}
	if err != nil {
		return state.Lock{}, fmt.Errorf("postgres: lock %q: %w", token, err)
	}
	return l, nil
}

// DeleteLock removes the lock with the token. It reports ErrNoSuchLock if the
// lock had expired by the database server's clock, and removes it all the
// same.
func (s *Store) DeleteLock(ctx context.Context, token string) error {
	err := state.ErrNoSuchLock
	if storable(token) {
		var live bool
		err = s.pool.QueryRow(ctx, `DELETE FROM locks WHERE token = $1
			RETURNING expires IS NULL OR expires > now()`, token).Scan(&live)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !live) {
			err = state.ErrNoSuchLock
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: delete lock %q: %w", token, err)
	}
	return nil
}

// Locks returns the locks live at now rooted at p or at an ancestor of p, and
// those rooted below p if descendants is set.
func (s *Store) Locks(ctx context.Context, p string, descendants bool, now time.Time) ([]state.Lock, error) {
	locks, err := liveLocks(ctx, s.pool, p, descendants, now)
	if err != nil {
		return nil, fmt.Errorf("postgres: locks of %q: %w", p, err)
	}
	return locks, nil
}

// querier is what the pool and a transaction have in common, so that a
// query can run on either.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// liveLocksQuery selects the locks live at $5 rooted at one of the paths
// in the array $1 or, if $2, in the range ($3, $4). One array parameter for
// the roots, and a flag rather than a term left out, make one prepared
// statement serve paths of any depth, with or without descendants.
const liveLocksQuery = `SELECT ` + lockColumns + ` FROM locks
	WHERE (root = ANY($1) OR ($2 AND root > $3 AND root < $4))
	AND (expires IS NULL OR expires > $5)
	ORDER BY root, token`

// liveLocks is Locks on q.
func liveLocks(ctx context.Context, q querier, p string, descendants bool, now time.Time) ([]state.Lock, error) {
	lo, hi := below(p)
	rows, err := q.Query(ctx, liveLocksQuery, append(state.Ancestors(p), p), descendants, lo, hi, now)
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
	if _, err := s.pool.Exec(ctx,
		`DELETE FROM locks WHERE root = $1 OR (root > $2 AND root < $3)`, p, lo, hi); err != nil {
		return fmt.Errorf("postgres: delete locks of %q: %w", p, err)
	}
	return nil
}

// scanLock reads a lock selected as lockColumns.
func scanLock(row pgx.Row) (state.Lock, error) {
	var (
		l       state.Lock
		timeout int64
		expires *time.Time
	)
	if err := row.Scan(&l.Token, &l.Root, &l.Infinite, &l.Shared, &l.Owner, &l.Principal,
		&timeout, &expires, &l.Created); err != nil {
		return state.Lock{}, err
	}
	l.Timeout = time.Duration(timeout)
	l.Expires = fromNull(expires)
	l.Created = l.Created.UTC()
	return l, nil
}
