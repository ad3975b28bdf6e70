package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path"

	"github.com/bassareggiana/faldone/state"
)

// Props returns the dead properties of p.
func (s *Store) Props(ctx context.Context, p string) ([]state.Prop, error) {
	rows, err := s.rd.QueryContext(ctx,
		`SELECT path, space, local, lang, value FROM props WHERE path = ? ORDER BY space, local`, p)
	if err != nil {
		return nil, fmt.Errorf("sqlite: props of %q: %w", p, err)
	}
	var props []state.Prop
	err = scanProps(rows, func(_ string, pr state.Prop) { props = append(props, pr) })
	if err != nil {
		return nil, fmt.Errorf("sqlite: props of %q: %w", p, err)
	}
	return props, nil
}

// ChildProps returns the dead properties of dir and of its direct children.
func (s *Store) ChildProps(ctx context.Context, dir string) (map[string][]state.Prop, error) {
	// The root is its own parent (path.Dir("/") == "/"), which the first
	// condition makes harmless.
	rows, err := s.rd.QueryContext(ctx,
		`SELECT path, space, local, lang, value FROM props WHERE path = ?1 OR parent = ?1
		ORDER BY path, space, local`, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlite: child props of %q: %w", dir, err)
	}
	m := make(map[string][]state.Prop)
	err = scanProps(rows, func(p string, pr state.Prop) { m[p] = append(m[p], pr) })
	if err != nil {
		return nil, fmt.Errorf("sqlite: child props of %q: %w", dir, err)
	}
	return m, nil
}

// PropsOf returns the dead properties of each of paths.
func (s *Store) PropsOf(ctx context.Context, paths []string) (map[string][]state.Prop, error) {
	m := make(map[string][]state.Prop)
	if len(paths) == 0 {
		return m, nil
	}
	// One parameter a path: SQLite takes up to 32,766 in a statement.
	in, args := inList(paths)
	rows, err := s.rd.QueryContext(ctx,
		`SELECT path, space, local, lang, value FROM props WHERE path IN `+in+`
		ORDER BY path, space, local`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: props of %d paths: %w", len(paths), err)
	}
	err = scanProps(rows, func(p string, pr state.Prop) { m[p] = append(m[p], pr) })
	if err != nil {
		return nil, fmt.Errorf("sqlite: props of %d paths: %w", len(paths), err)
	}
	return m, nil
}

// scanProps passes each row of rows, selected as path, space, local, lang,
// value, to add, and closes rows.
func scanProps(rows *sql.Rows, add func(p string, pr state.Prop)) error {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, pr := range set {
			if err := insertProp(ctx, tx, p, pr); err != nil {
				return err
			}
		}
		for _, n := range remove {
			if _, err := tx.ExecContext(ctx,
				`DELETE FROM props WHERE path = ? AND space = ? AND local = ?`, p, n.Space, n.Local); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: patch props of %q: %w", p, err)
	}
	return nil
}

// insertProp sets the property pr of p, replacing any with the same name.
func insertProp(ctx context.Context, tx *sql.Tx, p string, pr state.Prop) error {
	value := pr.InnerXML
	if value == nil {
		value = []byte{} // an empty element; nil would be bound as NULL
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO props (path, parent, space, local, lang, value) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (path, space, local) DO UPDATE SET lang = excluded.lang, value = excluded.value`,
		p, path.Dir(p), pr.Space, pr.Local, pr.Lang, value)
	return err
}

// CopyProps replaces the dead properties of the tree at dst with those of
// the tree at src.
func (s *Store) CopyProps(ctx context.Context, src, dst string) error {
	if err := s.write(ctx, func(tx *sql.Tx) error { return copyTree(ctx, tx, src, dst, false) }); err != nil {
		return fmt.Errorf("sqlite: copy props from %q to %q: %w", src, dst, err)
	}
	return nil
}

// MoveProps moves the dead properties of the tree at src to the tree at dst,
// replacing those there.
func (s *Store) MoveProps(ctx context.Context, src, dst string) error {
	if err := s.write(ctx, func(tx *sql.Tx) error { return copyTree(ctx, tx, src, dst, true) }); err != nil {
		return fmt.Errorf("sqlite: move props from %q to %q: %w", src, dst, err)
	}
	return nil
}

// copyTree replaces the properties of the tree at dst with those of the tree
// at src, and deletes the latter if move is set. It reads the source before
// deleting anything, so that it copies what src held even when one tree
// contains the other.
func copyTree(ctx context.Context, tx *sql.Tx, src, dst string, move bool) error {
	lo, hi := below(src)
	rows, err := tx.QueryContext(ctx,
		`SELECT path, space, local, lang, value FROM props WHERE path = ? OR (path > ? AND path < ?)`,
		src, lo, hi)
	if err != nil {
		return err
	}
	type prop struct {
		path string
		state.Prop
	}
	var props []prop
	if err := scanProps(rows, func(p string, pr state.Prop) { props = append(props, prop{p, pr}) }); err != nil {
		return err
	}
	if err := deleteTree(ctx, tx, dst); err != nil {
		return err
	}
	if move {
		if err := deleteTree(ctx, tx, src); err != nil {
			return err
		}
	}
	for _, pr := range props {
		if err := insertProp(ctx, tx, state.Rebase(pr.path, src, dst), pr.Prop); err != nil {
			return err
		}
	}
	return nil
}

// DeleteProps removes the dead properties of p and of its descendants.
func (s *Store) DeleteProps(ctx context.Context, p string) error {
	if err := s.write(ctx, func(tx *sql.Tx) error { return deleteTree(ctx, tx, p) }); err != nil {
		return fmt.Errorf("sqlite: delete props of %q: %w", p, err)
	}
	return nil
}

func deleteTree(ctx context.Context, tx *sql.Tx, p string) error {
	lo, hi := below(p)
	_, err := tx.ExecContext(ctx, `DELETE FROM props WHERE path = ? OR (path > ? AND path < ?)`, p, lo, hi)
	return err
}
