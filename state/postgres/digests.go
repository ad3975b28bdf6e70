package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bassareggiana/faldone/state"
)

var _ state.DigestStore = (*Store)(nil)

const digestColumns = `path, sha256, size, etag, recorded`

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
			return fmt.Errorf("postgres: put %d digests: digest %d (%q): %w", len(ds), i, d.Path, err)
		}
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, d := range ds {
			queueDigest(b, d)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: put %d digests: %w", len(ds), err)
	}
	return nil
}

// queueDigest queues on b the recording of d, replacing the digest of its
// path.
func queueDigest(b *pgx.Batch, d state.Digest) {
	b.Queue(`INSERT INTO digests (`+digestColumns+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,
			etag = excluded.etag, recorded = excluded.recorded`,
		d.Path, d.SHA256[:], d.Size, d.ETag, d.Recorded)
}

// DigestsOf returns the digests recorded for those of paths that have one.
func (s *Store) DigestsOf(ctx context.Context, paths []string) (map[string]state.Digest, error) {
	m := make(map[string]state.Digest)
	if len(paths) == 0 {
		return m, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+digestColumns+` FROM digests WHERE path = ANY($1)`, paths)
	if err != nil {
		return nil, fmt.Errorf("postgres: digests of %d paths: %w", len(paths), err)
	}
	if err := scanDigests(rows, func(d state.Digest) error { m[d.Path] = d; return nil }); err != nil {
		return nil, fmt.Errorf("postgres: digests of %d paths: %w", len(paths), err)
	}
	return m, nil
}

// TreeDigests calls fn with each digest of the tree at p, in byte order of
// path. The rows stream without the pool's bound on a query: a Comune's
// tree may take longer than it to read, and fn sets the pace.
func (s *Store) TreeDigests(ctx context.Context, p string, fn func(state.Digest) error) error {
	lo, hi := below(p)
	rows, err := s.pool.Stream(ctx,
		`SELECT `+digestColumns+` FROM digests WHERE path = $1 OR (path > $2 AND path < $3) ORDER BY path`, p, lo, hi)
	if err != nil {
		return fmt.Errorf("postgres: digests of the tree %q: %w", p, err)
	}
	var fnErr error
	err = scanDigests(rows, func(d state.Digest) error {
		fnErr = fn(d)
		return fnErr
	})
	if fnErr != nil {
		return fnErr // as it is, for the caller to recognise
	}
	if err != nil {
		return fmt.Errorf("postgres: digests of the tree %q: %w", p, err)
	}
	return nil
}

// scanDigests passes each row of rows, selected as digestColumns, to add,
// stops at add's first error, and closes rows.
func scanDigests(rows pgx.Rows, add func(state.Digest) error) error {
	defer rows.Close()
	for rows.Next() {
		var (
			d   state.Digest
			sum []byte
		)
		if err := rows.Scan(&d.Path, &sum, &d.Size, &d.ETag, &d.Recorded); err != nil {
			return err
		}
		if len(sum) != len(d.SHA256) {
			return fmt.Errorf("digest of %q has %d bytes", d.Path, len(sum))
		}
		copy(d.SHA256[:], sum)
		d.Recorded = d.Recorded.UTC()
		if err := add(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// MoveDigests moves the digests of the tree at src to the tree at dst,
// replacing those there, in one transaction. It reads the source before
// deleting anything, so that it moves what src held even when one tree
// contains the other.
func (s *Store) MoveDigests(ctx context.Context, src, dst string) error {
	if !state.IsValidText(dst) {
		return fmt.Errorf("postgres: move digests from %q to %q: the destination is not valid UTF-8 or holds a NUL", src, dst)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		lo, hi := below(src)
		rows, err := tx.Query(ctx,
			`SELECT `+digestColumns+` FROM digests WHERE path = $1 OR (path > $2 AND path < $3)`, src, lo, hi)
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
		b := &pgx.Batch{}
		queueDeleteDigests(b, dst)
		queueDeleteDigests(b, src)
		for _, d := range ds {
			queueDigest(b, d)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: move digests from %q to %q: %w", src, dst, err)
	}
	return nil
}

// DeleteDigests removes the digests of the tree at p.
func (s *Store) DeleteDigests(ctx context.Context, p string) error {
	lo, hi := below(p)
	if _, err := s.pool.Exec(ctx, deleteDigestTree, p, lo, hi); err != nil {
		return fmt.Errorf("postgres: delete digests of %q: %w", p, err)
	}
	return nil
}

// deleteDigestTree deletes the digests of the tree at $1, given below($1)
// as $2 and $3.
const deleteDigestTree = `DELETE FROM digests WHERE path = $1 OR (path > $2 AND path < $3)`

func queueDeleteDigests(b *pgx.Batch, p string) {
	lo, hi := below(p)
	b.Queue(deleteDigestTree, p, lo, hi)
}
