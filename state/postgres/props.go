package postgres

import (
	"context"
	"fmt"
	"path"

	"github.com/jackc/pgx/v5"

	"github.com/bassareggiana/faldone/state"
)

// Props returns the dead properties of p.
func (s *Store) Props(ctx context.Context, p string) ([]state.Prop, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT path, space, local, lang, value FROM props WHERE path = $1 ORDER BY space, local`, p)
	if err != nil {
		return nil, fmt.Errorf("postgres: props of %q: %w", p, err)
	}
	var props []state.Prop
	err = scanProps(rows, func(_ string, pr state.Prop) { props = append(props, pr) })
	if err != nil {
		return nil, fmt.Errorf("postgres: props of %q: %w", p, err)
	}
	return props, nil
}

// ChildProps returns the dead properties of dir and of its direct children.
func (s *Store) ChildProps(ctx context.Context, dir string) (map[string][]state.Prop, error) {
	// The root is its own parent (path.Dir("/") == "/"), which the first
	// condition makes harmless.
	rows, err := s.pool.Query(ctx,
		`SELECT path, space, local, lang, value FROM props WHERE path = $1 OR parent = $1
		ORDER BY path, space, local`, dir)
	if err != nil {
		return nil, fmt.Errorf("postgres: child props of %q: %w", dir, err)
	}
	m := make(map[string][]state.Prop)
	err = scanProps(rows, func(p string, pr state.Prop) { m[p] = append(m[p], pr) })
	if err != nil {
		return nil, fmt.Errorf("postgres: child props of %q: %w", dir, err)
	}
	return m, nil
}

// PropsOf returns the dead properties of each of paths.
func (s *Store) PropsOf(ctx context.Context, paths []string) (map[string][]state.Prop, error) {
	m := make(map[string][]state.Prop)
	if len(paths) == 0 {
		return m, nil
	}
	rows, err := s.pool.Query(ctx, propsOfQuery, paths)
	if err != nil {
		return nil, fmt.Errorf("postgres: props of %d paths: %w", len(paths), err)
	}
	err = scanProps(rows, func(p string, pr state.Prop) { m[p] = append(m[p], pr) })
	if err != nil {
		return nil, fmt.Errorf("postgres: props of %d paths: %w", len(paths), err)
	}
	return m, nil
}

// propsOfQuery selects the properties of the paths in the array $1.
const propsOfQuery = `SELECT path, space, local, lang, value FROM props WHERE path = ANY($1)
	ORDER BY path, space, local`

// scanProps passes each row of rows, selected as path, space, local, lang,
// value, to add, and closes rows.
func scanProps(rows pgx.Rows, add func(p string, pr state.Prop)) error {
	defer rows.Close()
	for rows.Next() {
		var p string
		var pr state.Prop
		if err := rows.Scan(&p, &pr.Space, &pr.Local, &pr.Lang, &pr.InnerXML); err != nil {
			return err
		}
		add(p, pr)
	}
	return rows.Err()
}

// PatchProps sets and then removes dead properties of p, in one transaction.
func (s *Store) PatchProps(ctx context.Context, p string, set []state.Prop, remove []state.PropName) error {
	if len(set) == 0 && len(remove) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		// One round trip for the lot: the statements of a batch still run
		// one after another, in order, so a later set of a name wins and
		// the removals come after the sets.
		b := &pgx.Batch{}
		for _, pr := range set {
			queueProp(b, p, pr)
		}
		for _, n := range remove {
			b.Queue(`DELETE FROM props WHERE path = $1 AND space = $2 AND local = $3`, p, n.Space, n.Local)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: patch props of %q: %w", p, err)
	}
	return nil
}

// queueProp queues on b the setting of the property pr of p, replacing any
// with the same name.
func queueProp(b *pgx.Batch, p string, pr state.Prop) {
	value := pr.InnerXML
	if value == nil {
		value = []byte{} // an empty element; nil would be sent as NULL
	}
	b.Queue(`INSERT INTO props (path, parent, space, local, lang, value) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (path, space, local) DO UPDATE SET lang = excluded.lang, value = excluded.value`,
		p, path.Dir(p), pr.Space, pr.Local, pr.Lang, value)
}

// CopyProps replaces the dead properties of the tree at dst with those of
// the tree at src.
func (s *Store) CopyProps(ctx context.Context, src, dst string) error {
	if err := s.write(ctx, func(tx pgx.Tx) error { return copyTree(ctx, tx, src, dst, false) }); err != nil {
		return fmt.Errorf("postgres: copy props from %q to %q: %w", src, dst, err)
	}
	return nil
}

// MoveProps moves the dead properties of the tree at src to the tree at dst,
// replacing those there.
func (s *Store) MoveProps(ctx context.Context, src, dst string) error {
	if err := s.write(ctx, func(tx pgx.Tx) error { return copyTree(ctx, tx, src, dst, true) }); err != nil {
		return fmt.Errorf("postgres: move props from %q to %q: %w", src, dst, err)
	}
	return nil
}

// copyTree replaces the properties of the tree at dst with those of the tree
// at src, and deletes the latter if move is set. It reads the source before
// deleting anything, so that it copies what src held even when one tree
// contains the other.
func copyTree(ctx context.Context, tx pgx.Tx, src, dst string, move bool) error {
	lo, hi := below(src)
	rows, err := tx.Query(ctx,
		`SELECT path, space, local, lang, value FROM props WHERE path = $1 OR (path > $2 AND path < $3)`,
		src, lo, hi)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	queueDeleteTree(b, dst)
	if move {
		queueDeleteTree(b, src)
	}
	// Inserts rather than a COPY: ON CONFLICT keeps the copy from failing
	// when another transaction has just written into the tree at dst.
	if err := scanProps(rows, func(p string, pr state.Prop) { queueProp(b, state.Rebase(p, src, dst), pr) }); err != nil {
		return err
	}
	return tx.SendBatch(ctx, b).Close()
}

// DeleteProps removes the dead properties of p and of its descendants.
func (s *Store) DeleteProps(ctx context.Context, p string) error {
	lo, hi := below(p)
	if _, err := s.pool.Exec(ctx, deleteTree, p, lo, hi); err != nil {
		return fmt.Errorf("postgres: delete props of %q: %w", p, err)
	}
	return nil
}

// deleteTree deletes the properties of the tree at $1, given below($1) as
// $2 and $3.
const deleteTree = `DELETE FROM props WHERE path = $1 OR (path > $2 AND path < $3)`

// queueDeleteTree queues on b the deletion of the properties of the tree at p.
func queueDeleteTree(b *pgx.Batch, p string) {
	lo, hi := below(p)
	b.Queue(deleteTree, p, lo, hi)
}
