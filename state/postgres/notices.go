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

var _ state.NoticeStore = (*Store)(nil)

// ClaimNotice marks the notice as being sent when it is new, or failed
// fewer than maxAttempts times. As in TakeLease, INSERT … ON CONFLICT DO
// UPDATE locks the row it finds and judges its condition on the row as the
// last committer left it: of replicas racing for a notice, one claims it.
// An upsert whose condition fails updates nothing and returns no row.
func (s *Store) ClaimNotice(ctx context.Context, kind, key string, maxAttempts int, now, expires time.Time) (bool, error) {
	if err := state.CheckNotice(kind, key, maxAttempts, now, expires); err != nil {
		return false, fmt.Errorf("postgres: claim notice %s %q: %w", kind, key, err)
	}
	var attempts int
	err := s.pool.QueryRow(ctx, `INSERT INTO notices (kind, key, state, attempts, updated, expires)
		VALUES ($1, $2, 'sending', 1, $3, $4)
		ON CONFLICT (kind, key) DO UPDATE SET
			state = 'sending', attempts = notices.attempts + 1, updated = excluded.updated, expires = excluded.expires
			WHERE notices.state = 'failed' AND notices.attempts < $5
		RETURNING attempts`, kind, key, now, expires, maxAttempts).Scan(&attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: claim notice %s %q: %w", kind, key, err)
	}
	return true, nil
}

// FinishNotice records how the sending of the notice ended.
func (s *Store) FinishNotice(ctx context.Context, kind, key string, outcome state.NoticeState, now time.Time) error {
	if err := state.CheckOutcome(outcome); err != nil {
		return fmt.Errorf("postgres: finish notice %s %q: %w", kind, key, err)
	}
	err := state.ErrNotFound
	if storable(kind) && storable(key) {
		var tag pgconn.CommandTag
		tag, err = s.pool.Exec(ctx, `UPDATE notices SET state = $1, updated = $2 WHERE kind = $3 AND key = $4`,
			string(outcome), now, kind, key)
		if err == nil {
			err = mustAffect(tag)
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: finish notice %s %q: %w", kind, key, err)
	}
	return nil
}

// Notice returns the notice kind/key.
func (s *Store) Notice(ctx context.Context, kind, key string) (state.Notice, error) {
	n := state.Notice{Kind: kind, Key: key}
	err := state.ErrNotFound
	if storable(kind) && storable(key) {
		var st string
		err = s.pool.QueryRow(ctx, `SELECT state, attempts, updated, expires FROM notices WHERE kind = $1 AND key = $2`, kind, key).
			Scan(&st, &n.Attempts, &n.Updated, &n.Expires)
		if errors.Is(err, pgx.ErrNoRows) {
			err = state.ErrNotFound
		}
		n.State = state.NoticeState(st)
	}
	if err != nil {
		return state.Notice{}, fmt.Errorf("postgres: notice %s %q: %w", kind, key, err)
	}
	n.Updated, n.Expires = n.Updated.UTC(), n.Expires.UTC()
	return n, nil
}
