package backends

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on the names every backend takes, whatever its storage: the
// gateway refuses longer ones at the edge with the same rule, so that a name
// is refused alike on disk and on S3 rather than by whichever limit the
// storage happens to have (255 bytes a file name on ext4 and most disks;
// 1024 bytes an S3 key, the prefix included).
const (
	// MaxNameBytes bounds one element of a path, in bytes of UTF-8.
	MaxNameBytes = 255
	// MaxPathBytes bounds a whole path, in bytes of UTF-8.
	MaxPathBytes = 1024
)

// CheckPath refuses a path that is not clean and relative, as every backend
// must: a leading or trailing slash, empty, "." or ".." elements, NUL bytes
// and bytes that are not UTF-8, an element longer than MaxNameBytes or a
// path longer than MaxPathBytes. "" is the root. Backends add what their
// storage forbids besides (a backslash on disk).
func CheckPath(p string) error {
	if p == "" {
		return nil
	}
	if strings.ContainsRune(p, 0) || !utf8.ValidString(p) {
		return fmt.Errorf("%q: %w", p, ErrInvalidPath)
	}
	if len(p) > MaxPathBytes {
		return fmt.Errorf("a path of %d bytes, more than %d: %w", len(p), MaxPathBytes, ErrInvalidPath)
	}
	for elem := range strings.SplitSeq(p, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return fmt.Errorf("%q: %w", p, ErrInvalidPath)
		}
		if len(elem) > MaxNameBytes {
			return fmt.Errorf("a name of %d bytes, more than %d: %w", len(elem), MaxNameBytes, ErrInvalidPath)
		}
	}
	return nil
}
