package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/bassareggiana/faldone/state"
)

var _ state.DossierStore = (*Store)(nil)

// CloseDossier records d; ErrExists when its path is closed already.
func (s *Store) CloseDossier(ctx context.Context, d state.ClosedDossier) error {
	if d.Path == "" || d.Closed.IsZero() || !state.IsValidText(d.Path) {
		return fmt.Errorf("sqlite: close dossier %q: Path (valid text) and Closed must be set", d.Path)
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO closed_dossiers (path, by, reason, closed) VALUES (?, ?, ?, ?)
		ON CONFLICT (path) DO NOTHING`, d.Path, state.ValidText(d.By), state.ValidText(d.Reason), d.Closed.UnixNano())
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = state.ErrExists
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: close dossier %q: %w", d.Path, busy(err))
	}
	return nil
}

// ReopenDossier removes the closure of the folder p.
func (s *Store) ReopenDossier(ctx context.Context, p string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM closed_dossiers WHERE path = ?`, p)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: reopen dossier %q: %w", p, busy(err))
	}
	return nil
}

// ClosedDossiers returns the closed dossiers at p or above it, and below it
// with deep.
func (s *Store) ClosedDossiers(ctx context.Context, p string, deep bool) ([]state.ClosedDossier, error) {
	roots := append(state.Ancestors(p), p)
	args := make([]any, 0, len(roots)+2)
	for _, r := range roots {
		args = append(args, r)
	}
	q := `SELECT path, by, reason, closed FROM closed_dossiers WHERE path IN (?` + strings.Repeat(", ?", len(roots)-1) + `)`
	if deep {
		lo, hi := below(p)
		q += ` OR (path > ? AND path < ?)`
		args = append(args, lo, hi)
	}
	rows, err := s.rd.QueryContext(ctx, q+` ORDER BY path`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: closed dossiers of %q: %w", p, err)
	}
	defer rows.Close()
	var out []state.ClosedDossier
	for rows.Next() {
		var (
			d      state.ClosedDossier
			closed int64
		)
		if err := rows.Scan(&d.Path, &d.By, &d.Reason, &closed); err != nil {
			return nil, fmt.Errorf("sqlite: closed dossiers of %q: %w", p, err)
		}
		d.Closed = utc(closed)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: closed dossiers of %q: %w", p, err)
	}
	return out, nil
}
