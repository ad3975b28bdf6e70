package dav

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/bassareggiana/faldone/backends"
)

// errBadPath is returned for request paths that are refused at the edge.
var errBadPath = errors.New("bad path")

// cleanPath turns the escaped path of a request URL into a namespace path
// ("/" or "/a/b", no trailing slash). It decodes each segment on its own and
// refuses, instead of repairing, every form that could name something other
// than what it spells: dot segments (also percent-encoded), encoded slashes,
// backslashes, NUL and other control characters, empty segments, bytes
// that are not UTF-8, and names or paths longer than the backends take. The
// returned bool reports whether the URL ended with a slash.
func cleanPath(escaped string) (string, bool, error) {
	if escaped == "" || escaped[0] != '/' {
		return "", false, errBadPath
	}
	if escaped == "/" {
		return "/", true, nil
	}
	trailing := strings.HasSuffix(escaped, "/")
	segs := strings.Split(strings.TrimSuffix(escaped[1:], "/"), "/")
	var b strings.Builder
	for _, s := range segs {
		seg, err := url.PathUnescape(s)
		if err != nil || !validSegment(seg) {
			return "", false, errBadPath
		}
		b.WriteByte('/')
		b.WriteString(seg)
	}
	// macOS spells accented letters decomposed (NFD), Windows and Linux
	// composed (NFC): both name the same file, which is stored composed.
	p := norm.NFC.String(b.String())
	// The backends' own rule, lengths included, so that every storage
	// refuses the same names, and before any of them is asked.
	if err := backends.CheckPath(backendPath(p)); err != nil {
		return "", false, fmt.Errorf("%w: %w", errBadPath, err)
	}
	return p, trailing, nil
}

// CleanURLPath is cleanPath for the other handlers of the server (the
// pages): the escaped path of a request URL, by the rules WebDAV applies.
func CleanURLPath(escaped string) (string, bool, error) { return cleanPath(escaped) }

// CleanPath turns a path that a person typed or pasted (a grant's dossier,
// a filter of a command), decoded and "/"-separated, the leading and a
// trailing slash optional, into a namespace path by the rules of the paths
// of requests: what could name something other than what it spells is
// refused, and accented letters are composed (NFC), so that a path pasted
// from macOS names what a request names.
func CleanPath(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errBadPath
	}
	s = strings.TrimPrefix(strings.TrimSuffix(s, "/"), "/")
	if s == "" {
		return "/", nil
	}
	for seg := range strings.SplitSeq(s, "/") {
		if !validSegment(seg) {
			return "", errBadPath
		}
	}
	return norm.NFC.String("/" + s), nil
}

// validSegment reports whether a decoded segment may be part of a path.
func validSegment(s string) bool {
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

// escapePath escapes a namespace path for use in an href or a Location.
func escapePath(p string) string {
	if p == "/" {
		return "/"
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/" + strings.Join(segs, "/")
}

// parentOf returns the parent of a namespace path; the root is its own parent.
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// backendPath converts a namespace path to the backend's relative form.
func backendPath(p string) string { return strings.TrimPrefix(p, "/") }

// namespacePath converts a backend path to a namespace path.
func namespacePath(bp string) string { return "/" + bp }

// isWithin reports whether p is a or below a.
func isWithin(p, a string) bool {
	return p == a || a == "/" || strings.HasPrefix(p, a+"/")
}
