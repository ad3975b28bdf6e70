// Package kept holds what the engines' recycle bins (state.TrashStore)
// must do alike, written once: the encoding of a kept item's dead
// properties, and the folding of paths for a search.
package kept

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/bassareggiana/faldone/state"
)

// Check refuses a record, with its items, that no store may hold:
// k.Check's and each item's refusals, and two items at one Rel, which a
// record's items cannot be.
func Check(k state.Kept, items []state.KeptItem) error {
	if err := k.Check(); err != nil {
		return err
	}
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		if err := it.Check(); err != nil {
			return fmt.Errorf("item %d (%q): %w", i, it.Rel, err)
		}
		if seen[it.Rel] {
			return fmt.Errorf("item %d: a second item at %q", i, it.Rel)
		}
		seen[it.Rel] = true
	}
	return nil
}

// version is the first byte of an encoding, so that another can follow.
const version = 1

// EncodeProps returns props as one value, losslessly: each of Space,
// Local, Lang and InnerXML as its length (a uvarint) and its bytes. Not
// JSON, which would replace invalid UTF-8 in the names; a property's
// value may hold any byte, and comes back as it went.
func EncodeProps(props []state.Prop) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, p := range props {
		n += 4*binary.MaxVarintLen64 + len(p.Space) + len(p.Local) + len(p.Lang) + len(p.InnerXML)
	}
	b := make([]byte, 0, n)
	b = append(b, version)
	b = binary.AppendUvarint(b, uint64(len(props)))
	for _, p := range props {
		for _, f := range [][]byte{[]byte(p.Space), []byte(p.Local), []byte(p.Lang), p.InnerXML} {
			b = binary.AppendUvarint(b, uint64(len(f)))
			b = append(b, f...)
		}
	}
	return b
}

// DecodeProps reverses EncodeProps: nil for none, and a non-nil InnerXML
// for each property (an empty element being an empty one). It shares no
// memory with b.
func DecodeProps(b []byte) ([]state.Prop, error) {
	if len(b) == 0 || b[0] != version {
		return nil, errors.New("the properties are not in a known encoding")
	}
	b = b[1:]
	count, k := binary.Uvarint(b)
	if k <= 0 || count > uint64(len(b)) { // each property takes four bytes at least
		return nil, errors.New("the properties' encoding is damaged")
	}
	b = b[k:]
	if count == 0 {
		return nil, nil
	}
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errors.New("the properties' encoding is damaged")
		}
		f := make([]byte, n)
		copy(f, b[k:])
		b = b[k+int(n):]
		return f, nil
	}
	props := make([]state.Prop, count)
	for i := range props {
		var fs [4][]byte
		for j := range fs {
			f, err := next()
			if err != nil {
				return nil, fmt.Errorf("property %d: %w", i, err)
			}
			fs[j] = f
		}
		props[i] = state.Prop{
			PropName: state.PropName{Space: string(fs[0]), Local: string(fs[1])},
			Lang:     string(fs[2]),
			InnerXML: fs[3],
		}
	}
	if len(b) != 0 {
		return nil, errors.New("the properties' encoding has bytes past its end")
	}
	return props, nil
}

// Fold returns s as a search compares it (state.KeptQuery.Search): lower
// case by Go's rules, in every engine alike. SQLite's lower() folds ASCII
// alone, and PostgreSQL's follows the column's collation ("C": ASCII
// alone too), so the engines keep a path folded here beside the path, and
// look for the search folded here in it.
func Fold(s string) string { return strings.ToLower(s) }
