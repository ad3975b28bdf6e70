package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bassareggiana/faldone/state"
)

const digestColumns = `path, sha256, size, etag, recorded`

// PutDigests records the digests with one statement, each replacing the
// one of its path; of two for one path, the later wins. A digest no store
// may hold (state.Digest.Check) refuses the lot, before anything is
// written.
func (s *Store) PutDigests(ctx context.Context, ds []state.Digest) error {
	if len(ds) == 0 {
		return nil
	}
	for i, d := range ds {
		if err := d.Check(); err != nil {
			return fmt.Errorf("postgres: put %d digests: digest %d (%q): %w", len(ds), i, d.Path, err)
		}
	}
	q, args := upsertDigests(ds)
	if _, err := s.pool.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("postgres: put %d digests: %w", len(ds), err)
	}
	return nil
}

// upsertDigests returns the statement, and its arguments, that records ds,
// each replacing the digest of its path.
//
// One statement for any number: the digests go as arrays. An INSERT ... ON
// CONFLICT DO UPDATE may not change a row twice, so only the last digest of
// each path is sent; and in path order, so that concurrent writers of
// overlapping sets take the rows' locks in one order rather than deadlock.
func upsertDigests(ds []state.Digest) (string, []any) {
	last := make(map[string]int, len(ds))
	for i, d := range ds {
		last[d.Path] = i
	}
	kept := make([]state.Digest, 0, len(last))
	for i, d := range ds {
		if last[d.Path] == i {
			kept = append(kept, d)
		}
	}
	slices.SortFunc(kept, func(a, b state.Digest) int { return cmp.Compare(a.Path, b.Path) })
	n := len(kept)
	var (
		paths, etags = make([]string, n), make([]string, n)
		sums         = make([][]byte, n)
		sizes        = make([]int64, n)
		recorded     = make([]time.Time, n)
	)
	for i, d := range kept {
		paths[i], sums[i], sizes[i], etags[i], recorded[i] = d.Path, d.SHA256[:], d.Size, d.ETag, d.Recorded
	}
	return `INSERT INTO digests (` + digestColumns + `)
		SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::text[], $5::timestamptz[])
		ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,
			etag = excluded.etag, recorded = excluded.recorded`,
		[]any{paths, sums, sizes, etags, recorded}
}

// DigestsOf returns, in one query, the digests recorded for those of paths
// that have one. A path text cannot hold has none, and is not sent.
func (s *Store) DigestsOf(ctx context.Context, paths []string) (map[string]state.Digest, error) {
	m := make(map[string]state.Digest)
	paths = slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return !storable(p) })
	if len(paths) == 0 {
		return m, nil
	}
	rows, err := s.pool.Query(ctx, digestsOfQuery, paths)
	if err != nil {
		return nil, fmt.Errorf("postgres: digests of %d paths: %w", len(paths), err)
	}
	if err := scanDigests(rows, func(d state.Digest) error { m[d.Path] = d; return nil }); err != nil {
		return nil, fmt.Errorf("postgres: digests of %d paths: %w", len(paths), err)
	}
	return m, nil
}

// digestsOfQuery selects the digests of the paths in the array $1.
const digestsOfQuery = `SELECT ` + digestColumns + ` FROM digests WHERE path = ANY($1)`

// TreeDigests calls fn with each digest of the tree at p, in byte order of
// path, and returns fn's first error as it is. A p that text cannot hold
// has no tree: no stored path is below it.
//
// Two queries, p's own digest and then those below it: p comes before
// every path below it in byte order, and the range alone can be read in
// the primary key's order, where a query for both (a BitmapOr) could only
// be sorted whole before the first row came. Whether to read the range in
// the index's order or to sort it is the planner's choice, by its size (in
// a trial on a million paths it read the root's in order and sorted a
// twentieth of them). The range streams, unbounded by the query timeout,
// as the audit export does: the server sends rows as
// fn takes them, so memory stays flat however large the tree, and writers
// go on, on the pool's other connections, while fn runs; fn may call the
// store. The query holds its snapshot, and a connection, until
// TreeDigests returns.
func (s *Store) TreeDigests(ctx context.Context, p string, fn func(state.Digest) error) error {
	if !storable(p) {
		return nil
	}
	// The query's bound ends when its row is read, before fn sees it.
	d, err := scanDigest(s.pool.QueryRow(ctx, `SELECT `+digestColumns+` FROM digests WHERE path = $1`, p))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("postgres: digests of the tree at %q: %w", p, err)
	default:
		if err := fn(d); err != nil {
			return err // the caller's own error, not the store's
		}
	}
	lo, hi := below(p)
	rows, err := s.pool.Stream(ctx, treeDigestsQuery, lo, hi)
	if err != nil {
		return fmt.Errorf("postgres: digests of the tree at %q: %w", p, err)
	}
	var fnErr error
	err = scanDigests(rows, func(d state.Digest) error {
		fnErr = fn(d)
		return fnErr
	})
	if fnErr != nil {
		return fnErr // the caller's own error, not the store's
	}
	if err != nil {
		return fmt.Errorf("postgres: digests of the tree at %q: %w", p, err)
	}
	return nil
}

// treeDigestsQuery selects, in byte order, the digests of the paths below
// a path, given below(path) as $1 and $2.
const treeDigestsQuery = `SELECT ` + digestColumns + ` FROM digests WHERE path > $1 AND path < $2 ORDER BY path`

// scanDigests passes each row of rows, selected as digestColumns, to add
// until add fails, and closes rows.
func scanDigests(rows pgx.Rows, add func(state.Digest) error) error {
	defer rows.Close()
	for rows.Next() {
		d, err := scanDigest(rows)
		if err != nil {
			return err
		}
		if err := add(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanDigest reads a digest selected as digestColumns.
func scanDigest(row pgx.Row) (state.Digest, error) {
	var (
		d   state.Digest
		sum []byte
	)
	if err := row.Scan(&d.Path, &sum, &d.Size, &d.ETag, &d.Recorded); err != nil {
		return state.Digest{}, err
	}
	if len(sum) != len(d.SHA256) {
		return state.Digest{}, fmt.Errorf("the digest of %q has %d bytes, not %d", d.Path, len(sum), len(d.SHA256))
	}
	copy(d.SHA256[:], sum)
	d.Recorded = d.Recorded.UTC()
	return d, nil
}

// MoveDigests moves the digests of the tree at src to the tree at dst,
// replacing those there, in one transaction. It reads the source before
// deleting anything, so that it moves what src held even when one tree
// contains the other. A dst that text cannot hold is refused, as
// PutDigests refuses such a path; a src that it cannot hold has no tree.
func (s *Store) MoveDigests(ctx context.Context, src, dst string) error {
	if !storable(dst) {
		return fmt.Errorf("postgres: move digests from %q to %q: the destination is not valid UTF-8 or holds a NUL", src, dst)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		var ds []state.Digest
		b := &pgx.Batch{}
		if storable(src) {
			lo, hi := below(src)
			rows, err := tx.Query(ctx, `SELECT `+digestColumns+` FROM digests WHERE path = $1 OR (path > $2 AND path < $3)`,
				src, lo, hi)
			if err != nil {
				return err
			}
			if err := scanDigests(rows, func(d state.Digest) error {
				d.Path = state.Rebase(d.Path, src, dst)
				ds = append(ds, d)
				return nil
			}); err != nil {
				return err
			}
			queueDeleteDigestTree(b, src)
		}
		queueDeleteDigestTree(b, dst)
		if len(ds) > 0 {
			// ON CONFLICT keeps the move from failing when another
			// transaction has just written into the tree at dst.
			q, args := upsertDigests(ds)
			b.Queue(q, args...)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: move digests from %q to %q: %w", src, dst, err)
	}
	return nil
}

// DeleteDigests removes the digests of the tree at p. A p that text cannot
// hold has no tree.
func (s *Store) DeleteDigests(ctx context.Context, p string) error {
	if !storable(p) {
		return nil
	}
	lo, hi := below(p)
	if _, err := s.pool.Exec(ctx, deleteDigestTree, p, lo, hi); err != nil {
		return fmt.Errorf("postgres: delete digests of %q: %w", p, err)
	}
	return nil
}

// deleteDigestTree deletes the digests of the tree at $1, given below($1)
// as $2 and $3.
const deleteDigestTree = `DELETE FROM digests WHERE path = $1 OR (path > $2 AND path < $3)`

// queueDeleteDigestTree queues on b the deletion of the digests of the tree
// at p.
func queueDeleteDigestTree(b *pgx.Batch, p string) {
	lo, hi := below(p)
	b.Queue(deleteDigestTree, p, lo, hi)
}
