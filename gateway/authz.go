package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/auth/oidc"
	"github.com/bassareggiana/faldone/backends/state"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/gateway/dav"
)

// accessStore is what authorization reads on every request.
type accessStore interface {
	Person(ctx context.Context, key string) (state.Person, error)
	Grants(ctx context.Context, f state.GrantFilter) ([]state.Grant, error)
}

// rules turns the configuration's access section into roles.
type rules struct {
	admins  map[string]bool
	assign  map[string]map[string]access.Role // person → comune ("*" too) → role
	groups  []config.GroupRule
	write   access.WriteLevel
	comuni  []string
	store   accessStore
	now     func() time.Time
	observe func(op string, d time.Duration) // may be nil
}

func newRules(cfg config.Config, store accessStore) (*rules, error) {
	write, err := access.NewWriteLevel(cfg.Access.MinWriteACR)
	if err != nil {
		return nil, err
	}
	r := &rules{admins: map[string]bool{}, assign: map[string]map[string]access.Role{}, groups: cfg.Access.GroupRules,
		write: write, store: store, now: time.Now}
	for _, a := range cfg.Access.Admins {
		r.admins[normalizePerson(a)] = true
	}
	for _, a := range cfg.Access.Assignments {
		role, _ := access.ParseRole(a.Role)
		p := normalizePerson(a.Person)
		if r.assign[p] == nil {
			r.assign[p] = map[string]access.Role{}
		}
		r.assign[p][a.Comune] = max(r.assign[p][a.Comune], role)
	}
	for _, c := range cfg.Comuni {
		r.comuni = append(r.comuni, c.ID)
	}
	return r, nil
}

// normalizePerson keys a fiscal number as sign-in does; other names (local
// accounts) stay as written.
func normalizePerson(s string) string {
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

// subject computes the live rights of an identity.
func (r *rules) subject(ctx context.Context, id auth.Identity) (access.Subject, error) {
	s := access.Subject{Roles: map[string]access.Role{}, ReadOnly: id.ReadOnly, Comuni: id.Comuni, CanWrite: r.write.Allows(id)}
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
	grant := func(comune string, role access.Role) {
		if comune == "*" {
			for _, c := range r.comuni {
				s.Roles[c] = max(s.Roles[c], role)
			}
			return
		}
		s.Roles[comune] = max(s.Roles[comune], role)
	}
	for comune, role := range r.assign[id.Name] {
		grant(comune, role)
	}
	for _, g := range r.groups {
		if !slices.ContainsFunc(p.Groups, func(x string) bool { return matchGroup(g.Group, x) }) {
			continue
		}
		if g.Admin {
			s.Admin = true
			continue
		}
		role, _ := access.ParseRole(g.Role)
		grant(g.Comune, role)
	}
	gs, err := r.store.Grants(ctx, state.GrantFilter{Person: id.Name, Live: true, Now: r.now()})
	if err != nil {
		return s, fmt.Errorf("grants: %w", err)
	}
	for _, g := range gs {
		s.Grants = append(s.Grants, access.Grant{Path: g.Path, Write: g.Write})
	}
	return s, nil
}

// policy is the dav handler's authorization: the live rights of the
// request's identity.
func (r *rules) policy(req *http.Request) (dav.Policy, error) {
	id, ok := auth.FromContext(req.Context())
	if !ok {
		return access.NewPolicy(access.Subject{}), nil
	}
	s, err := r.subject(req.Context(), id)
	if err != nil {
		return nil, err
	}
	return access.NewPolicy(s), nil
}

// manages lists the Comuni where person manages grants: all for an
// administrator, those where they are a manager otherwise.
func (r *rules) manages(ctx context.Context, person string) ([]string, error) {
	s, err := r.subject(ctx, auth.Identity{Name: person, Method: "local"})
	if err != nil {
		return nil, err
	}
	if s.Admin {
		return r.comuni, nil
	}
	var out []string
	for _, c := range r.comuni {
		if s.Roles[c] >= access.Manager {
			out = append(out, c)
		}
	}
	return out, nil
}
