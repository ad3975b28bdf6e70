package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bassareggiana/faldone/state"
)

var _ state.LeaseStore = (*Store)(nil)

// TakeLease gives the lease to holder if it is free at now or holder's
// already. One upsert on the single write connection, whose transaction
// holds the write lock, does the check and the write: of holders racing,
// in this process or another, exactly one finds the lease free. An upsert
// whose condition fails updates nothing and returns no row.
func (s *Store) TakeLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	if err := state.CheckLease(name, holder, ttl, now); err != nil {
		return false, fmt.Errorf("sqlite: take lease %q: %w", name, err)
	}
	var got string
	err := s.w.QueryRowContext(ctx, `INSERT INTO leases (name, holder, expires) VALUES (?1, ?2, ?4)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
			WHERE leases.holder = excluded.holder OR leases.expires <= ?3
		RETURNING holder`, name, holder, now.UnixNano(), now.Add(ttl).UnixNano()).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: take lease %q: %w", name, busy(err))
	}
	return true, nil
}

// ReleaseLease frees the lease if holder has it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("sqlite: release lease %q: %w", name, busy(err))
	}
	return nil
}
