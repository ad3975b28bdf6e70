package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bassareggiana/faldone/state"
)

var _ state.DossierStore = (*Store)(nil)

// CloseDossier records d; ErrExists when its path is closed already.
func (s *Store) CloseDossier(ctx context.Context, d state.ClosedDossier) error {
	if d.Path == "" || d.Closed.IsZero() || !state.IsValidText(d.Path) {
		return fmt.Errorf("postgres: close dossier %q: Path (valid text) and Closed must be set", d.Path)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO closed_dossiers (path, by, reason, closed) VALUES ($1, $2, $3, $4)
		ON CONFLICT (path) DO NOTHING`, d.Path, state.ValidText(d.By), state.ValidText(d.Reason), d.Closed)
	if err == nil && tag.RowsAffected() == 0 {
		err = state.ErrExists
	}
	if err != nil {
		return fmt.Errorf("postgres: close dossier %q: %w", d.Path, err)
	}
	return nil
}

// ReopenDossier removes the closure of the folder p.
func (s *Store) ReopenDossier(ctx context.Context, p string) error {
	err := state.ErrNotFound
	if storable(p) {
		var tag pgconn.CommandTag
		tag, err = s.pool.Exec(ctx, `DELETE FROM closed_dossiers WHERE path = $1`, p)
		if err == nil {
			err = mustAffect(tag)
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: reopen dossier %q: %w", p, err)
	}
	return nil
}

// ClosedDossiers returns the closed dossiers at p or above it, and below it
// with deep.
func (s *Store) ClosedDossiers(ctx context.Context, p string, deep bool) ([]state.ClosedDossier, error) {
	if !storable(p) {
		return nil, nil // no path PostgreSQL cannot hold is closed
	}
	roots := append(state.Ancestors(p), p)
	lo, hi := below(p)
	rows, err := s.pool.Query(ctx, `SELECT path, by, reason, closed FROM closed_dossiers
		WHERE path = ANY($1) OR ($2 AND path > $3 AND path < $4) ORDER BY path`, roots, deep, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("postgres: closed dossiers of %q: %w", p, err)
	}
	defer rows.Close()
	var out []state.ClosedDossier
	for rows.Next() {
		var d state.ClosedDossier
		if err := rows.Scan(&d.Path, &d.By, &d.Reason, &d.Closed); err != nil {
			return nil, fmt.Errorf("postgres: closed dossiers of %q: %w", p, err)
		}
		d.Closed = d.Closed.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: closed dossiers of %q: %w", p, err)
	}
	return out, nil
}
