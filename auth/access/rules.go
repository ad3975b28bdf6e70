package access

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/oidc"
	"github.com/bassareggiana/faldone/state"
)

// Store is what Rules reads for every request: the person's provider
// groups (those of their last sign-in) and their live grants.
type Store interface {
	Person(ctx context.Context, key string) (state.Person, error)
	Grants(ctx context.Context, f state.GrantFilter) ([]state.Grant, error)
}

// Config is the configuration's access section, with its roles read.
type Config struct {
	// Admins have every role on every Comune: fiscal numbers (in any of
	// the forms sign-in accepts) or local account names.
	Admins      []string
	Assignments []Assignment
	GroupRules  []GroupRule
	Write       WriteLevel
	// Comuni are the ids of every configured Comune: what "*" stands for,
	// and what an administrator manages.
	Comuni []string
	// Observe, when set, is told how long each subject took to read from
	// the store.
	Observe func(op string, d time.Duration)
}

// Assignment gives a person a role on a Comune ("*": on every one).
type Assignment struct {
	Person, Comune string
	Role           Role
}

// GroupRule gives the members of provider groups matching Group a role on
// a Comune ("*": on every one), or every role on every Comune (Admin). In
// Group, "*" stands for any run of characters.
type GroupRule struct {
	Group, Comune string
	Role          Role
	Admin         bool
}

// Rules turns the configuration, the person's provider groups and their
// live grants into the Subject that Decide answers for. It reads the store
// on every call, so that a revocation or a change of groups counts from
// the next request.
type Rules struct {
	admins  map[string]bool
	assign  map[string]map[string]Role // person → Comune ("*" too) → role
	groups  []GroupRule
	write   WriteLevel
	comuni  []string
	store   Store
	now     func() time.Time
	observe func(op string, d time.Duration)
}

// NewRules prepares c; store is read on every Subject.
func NewRules(c Config, store Store) *Rules {
	r := &Rules{admins: map[string]bool{}, assign: map[string]map[string]Role{}, groups: slices.Clone(c.GroupRules),
		write: c.Write, comuni: slices.Clone(c.Comuni), store: store, now: time.Now, observe: c.Observe}
	for _, a := range c.Admins {
		r.admins[personKey(a)] = true
	}
	for _, a := range c.Assignments {
		p := personKey(a.Person)
		if r.assign[p] == nil {
			r.assign[p] = map[string]Role{}
		}
		r.assign[p][a.Comune] = max(r.assign[p][a.Comune], a.Role)
	}
	return r
}

// personKey keys a fiscal number as sign-in does, so that the
// configuration may write it in any form sign-in accepts; other names
// (local accounts) stay as written.
func personKey(s string) string {
	if n, err := oidc.NormalizeFiscalNumber(s); err == nil {
		return n
	}
	return s
}

// matchGroup matches a group name against a pattern where "*" stands for
// any run of characters.
func matchGroup(pattern, group string) bool {
	// path.Match treats "/" specially; group names may hold one.
	ok, err := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(group, "/", "\x00"))
	return err == nil && ok
}

// Subject computes the live rights of the person id names, bounded by the
// credential: its scope, and the level of assurance of its sign-in
// (WriteLevel). An error means the rights could not be read; the caller
// must refuse the request.
func (r *Rules) Subject(ctx context.Context, id auth.Identity) (Subject, error) {
	s := Subject{Roles: map[string]Role{}, ReadOnly: id.ReadOnly, Comuni: id.Comuni, CanWrite: r.write.Allows(id)}
	if id.Name == "" {
		return s, nil
	}
	if r.observe != nil {
		defer func(start time.Time) { r.observe("authorize", time.Since(start)) }(time.Now())
	}
	p, err := r.store.Person(ctx, id.Name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return s, fmt.Errorf("person: %w", err)
	}
	s.Admin = r.admins[id.Name]
	give := func(comune string, role Role) {
		if comune == "*" {
			for _, c := range r.comuni {
				s.Roles[c] = max(s.Roles[c], role)
			}
			return
		}
		s.Roles[comune] = max(s.Roles[comune], role)
	}
	for comune, role := range r.assign[id.Name] {
		give(comune, role)
	}
	for _, g := range r.groups {
		if !slices.ContainsFunc(p.Groups, func(x string) bool { return matchGroup(g.Group, x) }) {
			continue
		}
		if g.Admin {
			s.Admin = true
			continue
		}
		give(g.Comune, g.Role)
	}
	gs, err := r.store.Grants(ctx, state.GrantFilter{Person: id.Name, Live: true, Now: r.now()})
	if err != nil {
		return s, fmt.Errorf("grants: %w", err)
	}
	for _, g := range gs {
		// Request paths are composed (NFC); a grant made before the paths
		// people type were composed too may be stored decomposed, and
		// would never match. Composed text comes back as it is.
		s.Grants = append(s.Grants, Grant{Path: norm.NFC.String(g.Path), Write: g.Write})
	}
	return s, nil
}

// Policy is NewPolicy of the Subject of id.
func (r *Rules) Policy(ctx context.Context, id auth.Identity) (*Policy, error) {
	s, err := r.Subject(ctx, id)
	if err != nil {
		return nil, err
	}
	return NewPolicy(s), nil
}

// Manages lists the Comuni where person manages grants: every one for an
// administrator, those where they are a manager otherwise. It is the
// person's own standing, whatever credential they use.
func (r *Rules) Manages(ctx context.Context, person string) ([]string, error) {
	s, err := r.Subject(ctx, auth.Identity{Name: person, Method: "local"})
	if err != nil {
		return nil, err
	}
	if s.Admin {
		return slices.Clone(r.comuni), nil
	}
	var out []string
	for _, c := range r.comuni {
		if s.Roles[c] >= Manager {
			out = append(out, c)
		}
	}
	return out, nil
}
