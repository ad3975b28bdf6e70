// Package access holds every authorization rule. One function,
// Policy.Decide, answers what a person may do where, for every request and
// for every entry a listing would reveal, and reads nothing but the
// Subject it was given. A Policy is computed once per request from the
// person's live roles and grants (Rules, in rules.go, reads them from the
// configuration and the state store), so that deciding for thousands of
// entries costs no storage or database call. WriteLevel (level.go) is the
// minimum level of assurance for writing, and SplitComune (comune.go) the
// one reading of which Comune a path is in.
package access

import (
	"path"
	"strings"
)

// Role is what a person may do in a Comune.
type Role int

const (
	None Role = iota
	// Reader reads.
	Reader
	// Editor reads, creates, writes, renames and moves, and deletes files
	// (Office and CAD programs delete and re-create files when they save).
	Editor
	// Manager is an editor who also deletes whole folders and manages the
	// Comune's grants.
	Manager
)

// ParseRole reads a role name as the configuration writes it.
func ParseRole(s string) (Role, bool) {
	switch s {
	case "reader":
		return Reader, true
	case "editor":
		return Editor, true
	case "manager":
		return Manager, true
	}
	return None, false
}

func (r Role) String() string {
	return [...]string{"none", "reader", "editor", "manager"}[r]
}

// Action is what a request does to a path.
type Action int

const (
	// Read: GET, HEAD, PROPFIND.
	Read Action = iota
	// Lock: LOCK and UNLOCK.
	Lock
	// Write: PUT, PROPPATCH, MKCOL, the destination of COPY and MOVE, and
	// MOVE's source (a rename).
	Write
	// Delete: DELETE of a file.
	Delete
	// DeleteTree: DELETE of a folder with everything in it.
	DeleteTree
	// Copy: COPY's source. Like Read, except that a read-only grant does
	// not allow it: a grant lets a person consult a dossier, not file it
	// into another archive on the server.
	Copy
)

func (a Action) String() string {
	return [...]string{"read", "lock", "write", "delete", "delete-tree", "copy"}[a]
}

// Verdict is the answer to a request.
type Verdict int

const (
	// Allow: go ahead.
	Allow Verdict = iota
	// Deny: the person may know the path exists but may not do this (403).
	Deny
	// Hide: the person may not even learn that the path exists (404).
	Hide
)

// Grant gives one person access to one subtree until it expires.
type Grant struct {
	Path  string // namespace path of the subtree: "/guastalla/2019/PC-2019-0042"
	Write bool
}

// Subject is who asks, with everything that bounds their rights. Roles and
// grants must be the live ones: revocations take effect at the next request.
type Subject struct {
	Admin  bool            // every role on every Comune
	Roles  map[string]Role // by Comune id
	Grants []Grant         // live grants only
	// ReadOnly and Comuni come from the credential (an app password's
	// scope): they narrow the rights, never widen them. Empty Comuni: all.
	ReadOnly bool
	Comuni   []string
	// CanWrite is false when the sign-in's level of assurance is below the
	// level required for writing.
	CanWrite bool
}

// Policy is a Subject prepared for fast decisions.
type Policy struct {
	s     Subject
	scope map[string]bool
}

// NewPolicy prepares s.
func NewPolicy(s Subject) *Policy {
	p := &Policy{s: s}
	if len(s.Comuni) > 0 {
		p.scope = map[string]bool{}
		for _, c := range s.Comuni {
			p.scope[c] = true
		}
	}
	for i, g := range p.s.Grants {
		p.s.Grants[i].Path = path.Clean("/" + g.Path)
	}
	return p
}

// within reports whether p is a or below it.
func within(p, a string) bool {
	return p == a || strings.HasPrefix(p, a+"/")
}

// Decide answers whether the subject may do a at the namespace path p.
func (p *Policy) Decide(a Action, np string) Verdict {
	if np == "/" {
		if a == Read {
			return Allow // the root lists only what Visible lets through
		}
		return Deny
	}
	comune, _ := SplitComune(np)
	if p.scope != nil && !p.scope[comune] {
		return Hide
	}
	role := p.s.Roles[comune]
	if p.s.Admin {
		role = Manager
	}
	fromGrant := false
	if role == None {
		role = p.grantRole(np)
		fromGrant = true
	}
	if role == None {
		if p.onTheWay(np) && a == Read {
			return Allow
		}
		if p.onTheWay(np) {
			return Deny
		}
		return Hide
	}
	if a != Read && (p.s.ReadOnly || !p.s.CanWrite) {
		return Deny
	}
	need := Editor
	switch {
	case a == Read, a == Copy && !fromGrant:
		need = Reader
	case a == DeleteTree:
		need = Manager
	}
	if role >= need {
		return Allow
	}
	return Deny
}

// grantRole is the role a grant gives at p: Editor inside a write grant,
// Reader inside a read grant.
func (p *Policy) grantRole(np string) Role {
	r := None
	for _, g := range p.s.Grants {
		if within(np, g.Path) {
			if g.Write {
				r = max(r, Editor)
			} else {
				r = max(r, Reader)
			}
		}
	}
	return r
}

// onTheWay reports whether np is a folder above a granted subtree: it is
// shown, read-only, with only the way to the grant in it.
func (p *Policy) onTheWay(np string) bool {
	for _, g := range p.s.Grants {
		if within(g.Path, np) && g.Path != np {
			return true
		}
	}
	return false
}

// Visible reports whether a listing may show the entry at np.
func (p *Policy) Visible(np string) bool { return p.Decide(Read, np) == Allow }

// Readable is what the subject may read among the Comuni comuni, for a
// search that must find nothing else: the Comuni it reads whole, and the
// subtrees of its grants in the others. The folders on the way to a grant,
// which a listing shows, are not in it.
func (p *Policy) Readable(comuni []string) (whole, grants []string) {
	in := map[string]bool{}
	for _, c := range comuni {
		if p.scope != nil && !p.scope[c] {
			continue
		}
		if p.s.Admin || p.s.Roles[c] >= Reader {
			whole = append(whole, c)
			in[c] = true
		}
	}
	for _, g := range p.s.Grants {
		c, _ := SplitComune(g.Path)
		if in[c] || (p.scope != nil && !p.scope[c]) || g.Path == "/" {
			continue
		}
		grants = append(grants, g.Path)
	}
	return whole, grants
}
