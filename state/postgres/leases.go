package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bassareggiana/faldone/state"
)

// TakeLease gives the lease to holder if it is free at now or holder's
// already. INSERT … ON CONFLICT DO UPDATE locks the row it finds, and
// under READ COMMITTED judges its condition on the row as the last
// committer left it: of replicas racing for a free lease, one inserts or
// updates it, and each other waits for it and then finds it held. An
// upsert whose condition fails updates nothing and returns no row.
func (s *Store) TakeLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	if err := state.CheckLease(name, holder, ttl, now); err != nil {
		return false, fmt.Errorf("postgres: take lease %q: %w", name, err)
	}
	var got string
	err := s.pool.QueryRow(ctx, `INSERT INTO leases (name, holder, expires) VALUES ($1, $2, $4)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
			WHERE leases.holder = excluded.holder OR leases.expires <= $3
		RETURNING holder`, name, holder, now, now.Add(ttl)).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: take lease %q: %w", name, err)
	}
	return true, nil
}

// ReleaseLease frees the lease if holder has it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if !storable(name) || !storable(holder) {
		return nil // such a lease cannot have been taken
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("postgres: release lease %q: %w", name, err)
	}
	return nil
}
