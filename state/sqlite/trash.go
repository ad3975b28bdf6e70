package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/internal/kept"
)

var _ state.TrashStore = (*Store)(nil)

const (
	keptColumns     = `id, kind, path, is_dir, size, files, by, origin, at, storage`
	keptItemColumns = `rel, is_dir, size, mod_time, locator, sha256, props`
)

// PutKept records k with its items in one transaction; ErrExists when
// k.ID is recorded already. A record or an item no store may hold
// (kept.Check) refuses the lot, before anything is written.
//
// The items go through one statement prepared in the transaction, which
// SQLite runs without parsing again: thousands take milliseconds.
func (s *Store) PutKept(ctx context.Context, k state.Kept, items []state.KeptItem) error {
	if err := kept.Check(k, items); err != nil {
		return fmt.Errorf("sqlite: put kept %q: %w", k.ID, err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO kept (`+keptColumns+`, folded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			k.ID, string(k.Kind), k.Path, k.IsDir, k.Size, k.Files, k.By, k.From, k.At.UnixNano(), k.Storage, kept.Fold(k.Path))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return state.ErrExists
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO kept_items (kept_id, `+keptItemColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, it := range items {
			var sum []byte // NULL: none
			if it.HasSHA256 {
				sum = it.SHA256[:]
			}
			var mod sql.NullInt64 // NULL: the zero time, which has no unix nanoseconds
			if !it.ModTime.IsZero() {
				mod = sql.NullInt64{Int64: it.ModTime.UnixNano(), Valid: true}
			}
			if _, err := stmt.ExecContext(ctx, k.ID, it.Rel, it.IsDir, it.Size, mod, it.Locator, sum,
				kept.EncodeProps(it.Props)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: put kept %q (%d items): %w", k.ID, len(items), err)
	}
	return nil
}

// KeptByID returns the record id.
func (s *Store) KeptByID(ctx context.Context, id string) (state.Kept, error) {
	k, err := scanKept(s.rd.QueryRowContext(ctx, `SELECT `+keptColumns+` FROM kept WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = state.ErrNotFound
	}
	if err != nil {
		return state.Kept{}, fmt.Errorf("sqlite: kept %q: %w", id, err)
	}
	return k, nil
}

// KeptItems calls fn with each item of id in byte order of Rel, and
// returns fn's first error as it is.
//
// The rows stream from one read connection in the primary key's order,
// without a sort; fn may call the store. Only a record without items
// costs a second query, to tell it from no record.
func (s *Store) KeptItems(ctx context.Context, id string, fn func(state.KeptItem) error) error {
	rows, err := s.rd.QueryContext(ctx, `SELECT `+keptItemColumns+` FROM kept_items WHERE kept_id = ? ORDER BY rel`, id)
	if err != nil {
		return fmt.Errorf("sqlite: items of kept %q: %w", id, err)
	}
	var (
		n     int
		fnErr error
	)
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			it, err := scanKeptItem(rows)
			if err != nil {
				return err
			}
			n++
			if fnErr = fn(it); fnErr != nil {
				return fnErr
			}
		}
		return rows.Err()
	}()
	if fnErr != nil {
		return fnErr // the caller's own error, not the store's
	}
	if err == nil && n == 0 {
		var one int
		err = s.rd.QueryRowContext(ctx, `SELECT 1 FROM kept WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			err = state.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: items of kept %q: %w", id, err)
	}
	return nil
}

// ListKept returns the records q selects, newest first, and how many it
// selects without Limit and Offset: two queries, each prepared once for
// its combination of filters (a few dozen texts at most).
func (s *Store) ListKept(ctx context.Context, q state.KeptQuery) ([]state.Kept, int, error) {
	if q.Limit < 0 || q.Offset < 0 {
		return nil, 0, fmt.Errorf("sqlite: list kept: Limit and Offset must not be negative")
	}
	where, args := keptWhere(q)
	limit := int64(q.Limit)
	if limit == 0 {
		limit = -1 // SQLite's no bound
	}
	rows, err := s.rd.QueryContext(ctx, `SELECT `+keptColumns+` FROM kept`+where+` ORDER BY at DESC, id LIMIT ? OFFSET ?`,
		append(args, limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list kept: %w", err)
	}
	var out []state.Kept
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			k, err := scanKept(rows)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list kept: %w", err)
	}
	var total int
	if err := s.rd.QueryRowContext(ctx, `SELECT count(*) FROM kept`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list kept: %w", err)
	}
	return out, total, nil
}

// keptWhere returns the WHERE clause, and its arguments, of the records q
// selects, Limit and Offset aside. The search looks for the folded text
// with instr, not LIKE: no character of it is a pattern's, so none needs
// escaping.
func keptWhere(q state.KeptQuery) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if q.Kind != "" {
		conds = append(conds, `kind = ?`)
		args = append(args, string(q.Kind))
	}
	switch {
	case q.Path == "":
	case q.Tree:
		lo, hi := below(q.Path)
		conds = append(conds, `(path = ? OR (path > ? AND path < ?))`)
		args = append(args, q.Path, lo, hi)
	default:
		conds = append(conds, `path = ?`)
		args = append(args, q.Path)
	}
	if q.Search != "" {
		conds = append(conds, `instr(folded, ?) > 0`)
		args = append(args, kept.Fold(q.Search))
	}
	if !q.Before.IsZero() {
		conds = append(conds, `at < ?`)
		args = append(args, q.Before.UnixNano())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), args
}

// ReclassifyKept gives the record id another kind and path.
func (s *Store) ReclassifyKept(ctx context.Context, id string, kind state.KeptKind, path string) error {
	if err := state.CheckKeptPlace(kind, path); err != nil {
		return fmt.Errorf("sqlite: reclassify kept %q: %w", id, err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE kept SET kind = ?, path = ?, folded = ? WHERE id = ?`,
		string(kind), path, kept.Fold(path), id)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: reclassify kept %q: %w", id, busy(err))
	}
	return nil
}

// MoveVersions moves the versions recorded for the tree at src below dst,
// in one transaction. The new paths, and their folded forms, are made in
// Go (state.Rebase, kept.Fold), as everywhere else.
func (s *Store) MoveVersions(ctx context.Context, src, dst string) error {
	if err := state.CheckKeptPlace(state.KindVersion, dst); err != nil {
		return fmt.Errorf("sqlite: move versions from %q to %q: %w", src, dst, err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		lo, hi := below(src)
		rows, err := tx.QueryContext(ctx, `SELECT id, path FROM kept
			WHERE kind = ? AND (path = ? OR (path > ? AND path < ?))`, string(state.KindVersion), src, lo, hi)
		if err != nil {
			return err
		}
		var ids, paths []string
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var id, p string
				if err := rows.Scan(&id, &p); err != nil {
					return err
				}
				ids, paths = append(ids, id), append(paths, state.Rebase(p, src, dst))
			}
			return rows.Err()
		}()
		if err != nil || len(ids) == 0 {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `UPDATE kept SET path = ?, folded = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, id := range ids {
			if _, err := stmt.ExecContext(ctx, paths[i], kept.Fold(paths[i]), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: move versions from %q to %q: %w", src, dst, err)
	}
	return nil
}

// DeleteKept removes the record id; its items go with it (ON DELETE
// CASCADE, the write connection having foreign_keys on).
func (s *Store) DeleteKept(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM kept WHERE id = ?`, id)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete kept %q: %w", id, busy(err))
	}
	return nil
}

// PutDeparture records d, replacing one recorded for d.From.
func (s *Store) PutDeparture(ctx context.Context, d state.Departure) error {
	if err := d.Check(); err != nil {
		return fmt.Errorf("sqlite: put departure from %q: %w", d.From, err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO departures (from_path, to_path, etag, size, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (from_path) DO UPDATE SET to_path = excluded.to_path, etag = excluded.etag,
			size = excluded.size, at = excluded.at`,
		d.From, d.To, d.ETag, d.Size, d.At.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: put departure from %q: %w", d.From, busy(err))
	}
	return nil
}

// TakeDeparture removes and returns the departure recorded for from, if
// it happened at or after since. One DELETE … RETURNING on the single
// write connection: of callers racing, only one finds the row.
func (s *Store) TakeDeparture(ctx context.Context, from string, since time.Time) (state.Departure, bool, error) {
	d := state.Departure{From: from}
	var at int64
	err := s.w.QueryRowContext(ctx, `DELETE FROM departures WHERE from_path = ? RETURNING to_path, etag, size, at`, from).
		Scan(&d.To, &d.ETag, &d.Size, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return state.Departure{}, false, nil
	}
	if err != nil {
		return state.Departure{}, false, fmt.Errorf("sqlite: take departure from %q: %w", from, busy(err))
	}
	d.At = utc(at)
	if d.At.Before(since) {
		return state.Departure{}, false, nil // stale: removed all the same
	}
	return d, true, nil
}

// scanKept reads a record selected as keptColumns.
func scanKept(row interface{ Scan(...any) error }) (state.Kept, error) {
	var (
		k    state.Kept
		kind string
		at   int64
	)
	if err := row.Scan(&k.ID, &kind, &k.Path, &k.IsDir, &k.Size, &k.Files, &k.By, &k.From, &at, &k.Storage); err != nil {
		return state.Kept{}, err
	}
	k.Kind, k.At = state.KeptKind(kind), utc(at)
	return k, nil
}

// scanKeptItem reads an item selected as keptItemColumns.
func scanKeptItem(row interface{ Scan(...any) error }) (state.KeptItem, error) {
	var (
		it         state.KeptItem
		mod        sql.NullInt64
		sum, props []byte
	)
	if err := row.Scan(&it.Rel, &it.IsDir, &it.Size, &mod, &it.Locator, &sum, &props); err != nil {
		return state.KeptItem{}, err
	}
	if mod.Valid {
		it.ModTime = utc(mod.Int64)
	}
	if sum != nil {
		if len(sum) != len(it.SHA256) {
			return state.KeptItem{}, fmt.Errorf("the digest of item %q has %d bytes, not %d", it.Rel, len(sum), len(it.SHA256))
		}
		copy(it.SHA256[:], sum)
		it.HasSHA256 = true
	}
	var err error
	if it.Props, err = kept.DecodeProps(props); err != nil {
		return state.KeptItem{}, fmt.Errorf("item %q: %w", it.Rel, err)
	}
	return it, nil
}
