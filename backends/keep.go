package backends

import (
	"fmt"
	"strings"
)

// KeepFolder is the name, in the root of a backend, of the hidden folder (on
// a disk) or key prefix (on an unversioned bucket) where a Keeper keeps
// what it sets aside. Backends refuse it as a path and never list it.
const KeepFolder = ".faldone-cestino"

// CheckKeepID refuses an id for Keeper.Discard or Preserve that is not 1–64
// of [A-Za-z0-9_-].
func CheckKeepID(id string) error {
	if id == "" || len(id) > 64 || strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) >= 0 {
		return fmt.Errorf("keep id %q: %w", id, ErrInvalidPath)
	}
	return nil
}

// InKeepFolder reports whether p is KeepFolder or lies under it.
func InKeepFolder(p string) bool {
	return p == KeepFolder || strings.HasPrefix(p, KeepFolder+"/")
}
