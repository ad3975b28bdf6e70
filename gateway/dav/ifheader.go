package dav

import (
	"errors"
	"strings"

	"golang.org/x/net/webdav"
)

// ifList is one parenthesised list of an If header (RFC 4918 section 10.4).
// Resource is the tag's URI for a tagged list, "" for an untagged one.
type ifList struct {
	Resource   string
	Conditions []webdav.Condition
}

var errBadIf = errors.New("malformed If header")

// parseIf parses an If header. The grammar is either a sequence of untagged
// lists or a sequence of tagged lists, never a mix.
func parseIf(h string) ([]ifList, error) {
	s := strings.TrimSpace(h)
	if s == "" {
		return nil, errBadIf
	}
	var (
		lists  []ifList
		tag    string
		tagged = s[0] == '<'
	)
	for s != "" {
		switch s[0] {
		case '<':
			if !tagged {
				return nil, errBadIf
			}
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return nil, errBadIf
			}
			tag, s = s[1:end], strings.TrimSpace(s[end+1:])
			if tag == "" || s == "" || s[0] != '(' {
				return nil, errBadIf
			}
		case '(':
			l, rest, err := parseIfList(s[1:])
			if err != nil {
				return nil, err
			}
			l.Resource = tag
			lists = append(lists, l)
			s = strings.TrimSpace(rest)
		default:
			return nil, errBadIf
		}
	}
	return lists, nil
}

// parseIfList parses the conditions after an opening parenthesis up to and
// including the closing one, and returns what follows.
func parseIfList(s string) (ifList, string, error) {
	var l ifList
	for {
		s = strings.TrimSpace(s)
		if s == "" {
			return l, "", errBadIf
		}
		if s[0] == ')' {
			if len(l.Conditions) == 0 {
				return l, "", errBadIf
			}
			return l, s[1:], nil
		}
		var c webdav.Condition
		if len(s) >= 3 && strings.EqualFold(s[:3], "not") {
			c.Not = true
			s = strings.TrimSpace(s[3:])
			if s == "" {
				return l, "", errBadIf
			}
		}
		switch s[0] {
		case '<':
			end := strings.IndexByte(s, '>')
			if end <= 1 {
				return l, "", errBadIf
			}
			c.Token, s = s[1:end], s[end+1:]
		case '[':
			end := strings.IndexByte(s, ']')
			if end <= 1 {
				return l, "", errBadIf
			}
			c.ETag, s = s[1:end], s[end+1:]
		default:
			return l, "", errBadIf
		}
		l.Conditions = append(l.Conditions, c)
	}
}
