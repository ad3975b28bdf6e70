package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bassareggiana/faldone/state"
)

var _ state.NoticeStore = (*Store)(nil)

// ClaimNotice marks the notice as being sent when it is new, or failed
// fewer than maxAttempts times. One upsert on the single write connection
// does the check and the write, as TakeLease does: an upsert whose
// condition fails updates nothing and returns no row.
func (s *Store) ClaimNotice(ctx context.Context, kind, key string, maxAttempts int, now, expires time.Time) (bool, error) {
	if err := state.CheckNotice(kind, key, maxAttempts, now, expires); err != nil {
		return false, fmt.Errorf("sqlite: claim notice %s %q: %w", kind, key, err)
	}
	var attempts int
	err := s.w.QueryRowContext(ctx, `INSERT INTO notices (kind, key, state, attempts, updated, expires)
		VALUES (?1, ?2, 'sending', 1, ?3, ?4)
		ON CONFLICT (kind, key) DO UPDATE SET
			state = 'sending', attempts = notices.attempts + 1, updated = excluded.updated, expires = excluded.expires
			WHERE notices.state = 'failed' AND notices.attempts < ?5
		RETURNING attempts`, kind, key, now.UnixNano(), expires.UnixNano(), maxAttempts).Scan(&attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: claim notice %s %q: %w", kind, key, busy(err))
	}
	return true, nil
}

// FinishNotice records how the sending of the notice ended.
func (s *Store) FinishNotice(ctx context.Context, kind, key string, outcome state.NoticeState, now time.Time) error {
	if err := state.CheckOutcome(outcome); err != nil {
		return fmt.Errorf("sqlite: finish notice %s %q: %w", kind, key, err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE notices SET state = ?, updated = ? WHERE kind = ? AND key = ?`,
		string(outcome), now.UnixNano(), kind, key)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: finish notice %s %q: %w", kind, key, busy(err))
	}
	return nil
}

// Notice returns the notice kind/key.
func (s *Store) Notice(ctx context.Context, kind, key string) (state.Notice, error) {
	n := state.Notice{Kind: kind, Key: key}
	var (
		st               string
		updated, expires int64
	)
	err := s.rd.QueryRowContext(ctx, `SELECT state, attempts, updated, expires FROM notices WHERE kind = ? AND key = ?`, kind, key).
		Scan(&st, &n.Attempts, &updated, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		err = state.ErrNotFound
	}
	if err != nil {
		return state.Notice{}, fmt.Errorf("sqlite: notice %s %q: %w", kind, key, err)
	}
	n.State, n.Updated, n.Expires = state.NoticeState(st), utc(updated), utc(expires)
	return n, nil
}
