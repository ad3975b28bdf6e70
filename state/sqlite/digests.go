package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/bassareggiana/faldone/state"
)

var _ state.DigestStore = (*Store)(nil)

const digestColumns = `path, sha256, size, etag, recorded`

// maxDigestsOf is the most paths DigestsOf asks for in one query: SQLite
// takes up to 32,766 parameters in a statement. A power of two, as the
// lists are padded to one (see DigestsOf).
const maxDigestsOf = 1 << 14

// PutDigests records the digests in one transaction, each replacing the
// one of its path; of two for one path, the later wins. A digest no store
// may hold (state.Digest.Check) refuses the lot, before anything is
// written.
func (s *Store) PutDigests(ctx context.Context, ds []state.Digest) error {
	if len(ds) == 0 {
		return nil
	}
	for i, d := range ds {
		if err := d.Check(); err != nil {
			return fmt.Errorf("sqlite: put %d digests: digest %d (%q): %w", len(ds), i, d.Path, err)
		}
	}
	if err := s.write(ctx, func(tx *sql.Tx) error { return insertDigests(ctx, tx, ds) }); err != nil {
		return fmt.Errorf("sqlite: put %d digests: %w", len(ds), err)
	}
	return nil
}

// insertDigests records ds in tx, each replacing the digest of its path.
func insertDigests(ctx context.Context, tx *sql.Tx, ds []state.Digest) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO digests (`+digestColumns+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,
			etag = excluded.etag, recorded = excluded.recorded`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, d := range ds {
		if _, err := stmt.ExecContext(ctx, d.Path, d.SHA256[:], d.Size, d.ETag, d.Recorded.UnixNano()); err != nil {
			return err
		}
	}
	return nil
}

// DigestsOf returns the digests recorded for those of paths that have one.
//
// The list is padded to a power of two by repeating its last path, which
// IN takes as once: each length of list is a text of its own, which reads
// prepares and keeps, and listings' pages of every length would fill its
// cache with texts run once each. Padded, they make at most 15 texts.
func (s *Store) DigestsOf(ctx context.Context, paths []string) (map[string]state.Digest, error) {
	m := make(map[string]state.Digest)
	for chunk := range chunks(paths, maxDigestsOf) {
		n := 1
		for n < len(chunk) {
			n *= 2
		}
		args := make([]any, n)
		for i := range args {
			args[i] = chunk[min(i, len(chunk)-1)]
		}
		rows, err := s.rd.QueryContext(ctx,
			`SELECT `+digestColumns+` FROM digests WHERE path IN (?`+strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: digests of %d paths: %w", len(paths), err)
		}
		if err := scanDigests(rows, func(d state.Digest) error { m[d.Path] = d; return nil }); err != nil {
			return nil, fmt.Errorf("sqlite: digests of %d paths: %w", len(paths), err)
		}
	}
	return m, nil
}

// chunks yields s in consecutive pieces of at most n, none empty.
func chunks(s []string, n int) func(yield func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// TreeDigests calls fn with each digest of the tree at p, in byte order of
// path, and returns fn's first error as it is.
//
// Two queries, p's own digest and then those below it: p comes before
// every path below it in byte order, and the range alone is read in the
// primary key's order, where a query for both would have SQLite sort the
// whole tree before the first row came. Rows stream from one read
// connection, so memory stays flat however large the tree, and writers go
// on while fn runs; fn may call the store. The range's read transaction
// keeps its snapshot until TreeDigests returns, which holds back WAL
// checkpoints for as long.
func (s *Store) TreeDigests(ctx context.Context, p string, fn func(state.Digest) error) error {
	d, err := scanDigest(s.rd.QueryRowContext(ctx, `SELECT `+digestColumns+` FROM digests WHERE path = ?`, p))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("sqlite: digests of the tree at %q: %w", p, err)
	default:
		if err := fn(d); err != nil {
			return err // the caller's own error, not the store's
		}
	}
	lo, hi := below(p)
	rows, err := s.rd.QueryContext(ctx, treeDigestsQuery, lo, hi)
	if err != nil {
		return fmt.Errorf("sqlite: digests of the tree at %q: %w", p, err)
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
		return fmt.Errorf("sqlite: digests of the tree at %q: %w", p, err)
	}
	return nil
}

// treeDigestsQuery selects, in byte order, the digests of the paths below
// a path, given below(path) as ?1 and ?2.
const treeDigestsQuery = `SELECT ` + digestColumns + ` FROM digests WHERE path > ? AND path < ? ORDER BY path`

// scanDigests passes each row of rows, selected as digestColumns, to add
// until add fails, and closes rows.
func scanDigests(rows *sql.Rows, add func(state.Digest) error) error {
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
func scanDigest(row interface{ Scan(...any) error }) (state.Digest, error) {
	var (
		d        state.Digest
		sum      []byte
		recorded int64
	)
	if err := row.Scan(&d.Path, &sum, &d.Size, &d.ETag, &recorded); err != nil {
		return state.Digest{}, err
	}
	if len(sum) != len(d.SHA256) {
		return state.Digest{}, fmt.Errorf("the digest of %q has %d bytes, not %d", d.Path, len(sum), len(d.SHA256))
	}
	copy(d.SHA256[:], sum)
	d.Recorded = utc(recorded)
	return d, nil
}

// MoveDigests moves the digests of the tree at src to the tree at dst,
// replacing those there, in one transaction. It reads the source before
// deleting anything, so that it moves what src held even when one tree
// contains the other. A dst that is not valid text is refused, as
// PutDigests refuses such a path.
func (s *Store) MoveDigests(ctx context.Context, src, dst string) error {
	if !state.IsValidText(dst) {
		return fmt.Errorf("sqlite: move digests from %q to %q: the destination is not valid UTF-8 or holds a NUL", src, dst)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		lo, hi := below(src)
		rows, err := tx.QueryContext(ctx,
			`SELECT `+digestColumns+` FROM digests WHERE path = ? OR (path > ? AND path < ?)`, src, lo, hi)
		if err != nil {
			return err
		}
		var ds []state.Digest
		if err := scanDigests(rows, func(d state.Digest) error {
			d.Path = state.Rebase(d.Path, src, dst)
			ds = append(ds, d)
			return nil
		}); err != nil {
			return err
		}
		if err := deleteDigestTree(ctx, tx, dst); err != nil {
			return err
		}
		if err := deleteDigestTree(ctx, tx, src); err != nil {
			return err
		}
		return insertDigests(ctx, tx, ds)
	})
	if err != nil {
		return fmt.Errorf("sqlite: move digests from %q to %q: %w", src, dst, err)
	}
	return nil
}

// DeleteDigests removes the digests of the tree at p.
func (s *Store) DeleteDigests(ctx context.Context, p string) error {
	if err := s.write(ctx, func(tx *sql.Tx) error { return deleteDigestTree(ctx, tx, p) }); err != nil {
		return fmt.Errorf("sqlite: delete digests of %q: %w", p, err)
	}
	return nil
}

func deleteDigestTree(ctx context.Context, tx *sql.Tx, p string) error {
	lo, hi := below(p)
	_, err := tx.ExecContext(ctx, `DELETE FROM digests WHERE path = ? OR (path > ? AND path < ?)`, p, lo, hi)
	return err
}
