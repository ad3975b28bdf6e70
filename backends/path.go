package backends

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CheckPath refuses a path that is not clean and relative, as every backend
// must: a leading or trailing slash, empty, "." or ".." elements, NUL bytes
// and bytes that are not UTF-8. "" is the root. Backends add what their
// storage forbids besides (a backslash on disk).
func CheckPath(p string) error {
	if p == "" {
		return nil
	}
	if strings.ContainsRune(p, 0) || !utf8.ValidString(p) {
		return fmt.Errorf("%q: %w", p, ErrInvalidPath)
	}
	for elem := range strings.SplitSeq(p, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return fmt.Errorf("%q: %w", p, ErrInvalidPath)
		}
	}
	return nil
}
