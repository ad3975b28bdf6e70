package dav

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/bassareggiana/faldone/archive"
)

// errBadPath is returned for request paths that are refused at the edge.
var errBadPath = errors.New("bad path")

// cleanPath turns the escaped path of a request URL into a namespace path
// ("/" or "/a/b", no trailing slash): each segment is decoded on its own,
// an encoded slash refused, and the rest is archive.Path's rule. The
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
		// An empty segment would vanish in the join: "a//b" is not "a/b".
		if err != nil || seg == "" || strings.Contains(seg, "/") {
			return "", false, errBadPath
		}
		b.WriteByte('/')
		b.WriteString(seg)
	}
	p, err := archive.Path(b.String())
	if err != nil {
		return "", false, fmt.Errorf("%w: %w", errBadPath, err)
	}
	return p, trailing, nil
}

// CleanURLPath is cleanPath for the other handlers of the server (the
// pages): the escaped path of a request URL, by the rules WebDAV applies.
func CleanURLPath(escaped string) (string, bool, error) { return cleanPath(escaped) }

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
