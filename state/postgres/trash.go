package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
// The items go by COPY, in the transaction: thousands in one round trip,
// without a statement's limit of 65,535 parameters.
func (s *Store) PutKept(ctx context.Context, k state.Kept, items []state.KeptItem) error {
	if err := kept.Check(k, items); err != nil {
		return fmt.Errorf("postgres: put kept %q: %w", k.ID, err)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO kept (`+keptColumns+`, folded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (id) DO NOTHING`,
			k.ID, string(k.Kind), k.Path, k.IsDir, k.Size, k.Files, k.By, k.From, k.At, k.Storage, kept.Fold(k.Path))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return state.ErrExists
		}
		if len(items) == 0 {
			return nil
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"kept_items"},
			[]string{"kept_id", "rel", "is_dir", "size", "mod_time", "locator", "sha256", "props"},
			pgx.CopyFromSlice(len(items), func(i int) ([]any, error) {
				it := items[i]
				var sum []byte // NULL: none
				if it.HasSHA256 {
					sum = it.SHA256[:]
				}
				return []any{k.ID, it.Rel, it.IsDir, it.Size, nullTime(it.ModTime), it.Locator, sum,
					kept.EncodeProps(it.Props)}, nil
			}))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: put kept %q (%d items): %w", k.ID, len(items), err)
	}
	return nil
}

// KeptByID returns the record id. An id that text cannot hold is none.
func (s *Store) KeptByID(ctx context.Context, id string) (state.Kept, error) {
	err := state.ErrNotFound
	var k state.Kept
	if storable(id) {
		k, err = scanKept(s.pool.QueryRow(ctx, `SELECT `+keptColumns+` FROM kept WHERE id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			err = state.ErrNotFound
		}
	}
	if err != nil {
		return state.Kept{}, fmt.Errorf("postgres: kept %q: %w", id, err)
	}
	return k, nil
}

// KeptItems calls fn with each item of id in byte order of Rel, and
// returns fn's first error as it is.
//
// The rows stream, unbounded by the query timeout, as TreeDigests's do:
// the server sends them as fn takes them, so memory stays flat however
// many a folder holds, and fn may call the store. Only a record without
// items costs a second query, to tell it from no record.
func (s *Store) KeptItems(ctx context.Context, id string, fn func(state.KeptItem) error) error {
	if !storable(id) {
		return fmt.Errorf("postgres: items of kept %q: %w", id, state.ErrNotFound)
	}
	rows, err := s.pool.Stream(ctx, `SELECT `+keptItemColumns+` FROM kept_items WHERE kept_id = $1 ORDER BY rel`, id)
	if err != nil {
		return fmt.Errorf("postgres: items of kept %q: %w", id, err)
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
		err = s.pool.QueryRow(ctx, `SELECT 1 FROM kept WHERE id = $1`, id).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			err = state.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: items of kept %q: %w", id, err)
	}
	return nil
}

// ListKept returns the records q selects, newest first, and how many it
// selects without Limit and Offset, in two queries.
func (s *Store) ListKept(ctx context.Context, q state.KeptQuery) ([]state.Kept, int, error) {
	if q.Limit < 0 || q.Offset < 0 {
		return nil, 0, fmt.Errorf("postgres: list kept: Limit and Offset must not be negative")
	}
	where, args, ok := keptWhere(q)
	if !ok {
		return nil, 0, nil
	}
	var limit *int64 // NULL: no bound
	if q.Limit > 0 {
		l := int64(q.Limit)
		limit = &l
	}
	n := len(args)
	rows, err := s.pool.Query(ctx, `SELECT `+keptColumns+` FROM kept`+where+
		` ORDER BY at DESC, id LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
		append(args, limit, int64(q.Offset))...)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: list kept: %w", err)
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
		return nil, 0, fmt.Errorf("postgres: list kept: %w", err)
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM kept`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("postgres: list kept: %w", err)
	}
	return out, total, nil
}

// keptWhere returns the WHERE clause, and its arguments ($1 on), of the
// records q selects, Limit and Offset aside; ok is false when text cannot
// hold what q looks for, which no record then has. The search looks for
// the folded text with strpos, not LIKE: no character of it is a
// pattern's, so none needs escaping.
func keptWhere(q state.KeptQuery) (where string, args []any, ok bool) {
	var conds []string
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !storable(string(q.Kind)) || !storable(q.Path) || !storable(q.Search) {
		return "", nil, false
	}
	if q.Kind != "" {
		conds = append(conds, `kind = `+arg(string(q.Kind)))
	}
	switch {
	case q.Path == "":
	case q.Tree:
		lo, hi := below(q.Path)
		conds = append(conds, `(path = `+arg(q.Path)+` OR (path > `+arg(lo)+` AND path < `+arg(hi)+`))`)
	default:
		conds = append(conds, `path = `+arg(q.Path))
	}
	if q.Search != "" {
		conds = append(conds, `strpos(folded, `+arg(kept.Fold(q.Search))+`) > 0`)
	}
	if !q.Before.IsZero() {
		conds = append(conds, `at < `+arg(q.Before))
	}
	if len(conds) == 0 {
		return "", nil, true
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), args, true
}

// ReclassifyKept gives the record id another kind and path.
func (s *Store) ReclassifyKept(ctx context.Context, id string, kind state.KeptKind, path string) error {
	if err := state.CheckKeptPlace(kind, path); err != nil {
		return fmt.Errorf("postgres: reclassify kept %q: %w", id, err)
	}
	err := state.ErrNotFound
	if storable(id) {
		var tag pgconn.CommandTag
		tag, err = s.pool.Exec(ctx, `UPDATE kept SET kind = $1, path = $2, folded = $3 WHERE id = $4`,
			string(kind), path, kept.Fold(path), id)
		if err == nil {
			err = mustAffect(tag)
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: reclassify kept %q: %w", id, err)
	}
	return nil
}

// MoveVersions moves the versions recorded for the tree at src below dst,
// in one transaction. The new paths, and their folded forms, are made in
// Go (state.Rebase, kept.Fold), as everywhere else, and go back in one
// UPDATE. The rows are locked as they are read, in ID order, so that a
// reclassification cannot slip in between, and two moves over one tree
// take turns rather than deadlock.
func (s *Store) MoveVersions(ctx context.Context, src, dst string) error {
	if err := state.CheckKeptPlace(state.KindVersion, dst); err != nil {
		return fmt.Errorf("postgres: move versions from %q to %q: %w", src, dst, err)
	}
	if !storable(src) {
		return nil // no record is there
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		lo, hi := below(src)
		rows, err := tx.Query(ctx, `SELECT id, path FROM kept
			WHERE kind = $1 AND (path = $2 OR (path > $3 AND path < $4)) ORDER BY id FOR UPDATE`,
			string(state.KindVersion), src, lo, hi)
		if err != nil {
			return err
		}
		var ids, paths, folded []string
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var id, p string
				if err := rows.Scan(&id, &p); err != nil {
					return err
				}
				p = state.Rebase(p, src, dst)
				ids, paths, folded = append(ids, id), append(paths, p), append(folded, kept.Fold(p))
			}
			return rows.Err()
		}()
		if err != nil || len(ids) == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE kept SET path = m.path, folded = m.folded
			FROM unnest($1::text[], $2::text[], $3::text[]) AS m (id, path, folded) WHERE kept.id = m.id`,
			ids, paths, folded)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: move versions from %q to %q: %w", src, dst, err)
	}
	return nil
}

// DeleteKept removes the record id; its items go with it (ON DELETE
// CASCADE).
func (s *Store) DeleteKept(ctx context.Context, id string) error {
	err := state.ErrNotFound
	if storable(id) {
		var tag pgconn.CommandTag
		tag, err = s.pool.Exec(ctx, `DELETE FROM kept WHERE id = $1`, id)
		if err == nil {
			err = mustAffect(tag)
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: delete kept %q: %w", id, err)
	}
	return nil
}

// PutDeparture records d, replacing one recorded for d.From.
func (s *Store) PutDeparture(ctx context.Context, d state.Departure) error {
	if err := d.Check(); err != nil {
		return fmt.Errorf("postgres: put departure from %q: %w", d.From, err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO departures (from_path, to_path, etag, size, at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (from_path) DO UPDATE SET to_path = excluded.to_path, etag = excluded.etag,
			size = excluded.size, at = excluded.at`,
		d.From, d.To, d.ETag, d.Size, d.At)
	if err != nil {
		return fmt.Errorf("postgres: put departure from %q: %w", d.From, err)
	}
	return nil
}

// TakeDeparture removes and returns the departure recorded for from, if
// it happened at or after since. One DELETE … RETURNING: of callers
// racing, on any replica, the first deletes the row and the others,
// waiting on its lock, then find it gone.
func (s *Store) TakeDeparture(ctx context.Context, from string, since time.Time) (state.Departure, bool, error) {
	if !storable(from) {
		return state.Departure{}, false, nil
	}
	d := state.Departure{From: from}
	err := s.pool.QueryRow(ctx, `DELETE FROM departures WHERE from_path = $1 RETURNING to_path, etag, size, at`, from).
		Scan(&d.To, &d.ETag, &d.Size, &d.At)
	if errors.Is(err, pgx.ErrNoRows) {
		return state.Departure{}, false, nil
	}
	if err != nil {
		return state.Departure{}, false, fmt.Errorf("postgres: take departure from %q: %w", from, err)
	}
	d.At = d.At.UTC()
	if d.At.Before(since) {
		return state.Departure{}, false, nil // stale: removed all the same
	}
	return d, true, nil
}

// scanKept reads a record selected as keptColumns.
func scanKept(row pgx.Row) (state.Kept, error) {
	var (
		k    state.Kept
		kind string
	)
	if err := row.Scan(&k.ID, &kind, &k.Path, &k.IsDir, &k.Size, &k.Files, &k.By, &k.From, &k.At, &k.Storage); err != nil {
		return state.Kept{}, err
	}
	k.Kind, k.At = state.KeptKind(kind), k.At.UTC()
	return k, nil
}

// scanKeptItem reads an item selected as keptItemColumns.
func scanKeptItem(row pgx.Row) (state.KeptItem, error) {
	var (
		it         state.KeptItem
		mod        *time.Time
		sum, props []byte
	)
	if err := row.Scan(&it.Rel, &it.IsDir, &it.Size, &mod, &it.Locator, &sum, &props); err != nil {
		return state.KeptItem{}, err
	}
	it.ModTime = fromNull(mod)
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
