package archive

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/bassareggiana/faldone/backends"
)

// Path turns a decoded, "/"-separated path — of a URL once unescaped, typed
// or pasted in a form, given to a command — into a namespace path ("/" or
// "/a/b"), the leading and a trailing slash optional. It refuses, instead
// of repairing, every form that could name something other than what it
// spells: dot segments, backslashes, NUL and other control characters,
// empty segments, bytes that are not UTF-8, and names or paths longer than
// the backends take (backends.CheckPath). Accented letters are composed
// (NFC): macOS spells them decomposed, Windows and Linux composed, and both
// name the same file, which is stored composed. Every operation takes its
// paths through Path; a path it already gave comes back unchanged.
func Path(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q: %w", s, backends.ErrInvalidPath)
	}
	s = strings.TrimPrefix(strings.TrimSuffix(s, "/"), "/")
	if s == "" {
		return "/", nil
	}
	for seg := range strings.SplitSeq(s, "/") {
		if !ValidName(seg) {
			return "", fmt.Errorf("%q: %w", s, backends.ErrInvalidPath)
		}
	}
	s = norm.NFC.String(s)
	// The backends' own rule, lengths included, so that every storage
	// refuses the same names, and before any of them is asked.
	if err := backends.CheckPath(s); err != nil {
		return "", err
	}
	return "/" + s, nil
}

// ValidName reports whether a name may be one element of a path.
func ValidName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}

// ShowableOnWindows reports whether Windows Explorer can show and open a
// file of the name: none of <>:"|?*, no trailing dot or space, and not a
// device name (CON, PRN, AUX, NUL, COM1–9, LPT1–9, with any extension).
// Such names are stored as they are when a client writes them; an import
// refuses them, since the archive staff would not be able to open them.
func ShowableOnWindows(name string) bool {
	if strings.ContainsAny(name, `<>:"|?*`) || strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
		return false
	}
	base, _, _ := strings.Cut(name, ".")
	switch strings.ToUpper(strings.TrimRight(base, " ")) {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return false
	}
	return true
}
