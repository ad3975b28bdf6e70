package access

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/oidc"
	"github.com/bassareggiana/faldone/state"
)

type fakeStore struct {
	people    map[string]state.Person
	grants    []state.Grant
	personErr error
	grantsErr error
}

func (f fakeStore) Person(_ context.Context, key string) (state.Person, error) {
	if f.personErr != nil {
		return state.Person{}, f.personErr
	}
	p, ok := f.people[key]
	if !ok {
		return state.Person{}, state.ErrNotFound
	}
	return p, nil
}

func (f fakeStore) Grants(_ context.Context, gf state.GrantFilter) ([]state.Grant, error) {
	if f.grantsErr != nil {
		return nil, f.grantsErr
	}
	var out []state.Grant
	for _, g := range f.grants {
		if g.Person == gf.Person && (!gf.Live || gf.Now.Before(g.Expires)) {
			out = append(out, g)
		}
	}
	return out, nil
}

func testRules(t *testing.T) (*Rules, fakeStore) {
	t.Helper()
	write, err := NewWriteLevel(oidc.SpidL2)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	store := fakeStore{
		people: map[string]state.Person{
			"VRDGPP70A01H223Z": {Key: "VRDGPP70A01H223Z", Groups: []string{"sue-luzzara-tecnici"}},
			"NREMRA70A01H223X": {Key: "NREMRA70A01H223X", Groups: []string{"unione/archivio"}},
			"GLLMRC75A01H223Q": {Key: "GLLMRC75A01H223Q", Groups: []string{"unione-archivio"}},
		},
		grants: []state.Grant{
			{Person: "TCNATV80A01H223A", Path: "/guastalla/2019/PC-1", Expires: now.Add(time.Hour)},
			{Person: "TCNATV80A01H223A", Path: "/luzzara/2019/PC-9", Expires: now.Add(-time.Hour)},
			{Person: "TCNATV80A01H223A", Path: "/luzzara/2020/PC-3", Write: true, Expires: now.Add(time.Hour)},
			// Made before paths were composed, as Finder spells them.
			{Person: "TCNATV80A01H223A", Path: "/guastalla/2018/Universita\u0300", Expires: now.Add(time.Hour)},
		},
	}
	return NewRules(Config{
		Admins: []string{"tinit-rssmra80a01h223y"},
		Assignments: []Assignment{
			{Person: "BNCLRA85M41E253K", Comune: "guastalla", Role: Editor},
			{Person: "tecnico", Comune: "*", Role: Reader},
			{Person: "tecnico", Comune: "luzzara", Role: Editor},
		},
		GroupRules: []GroupRule{
			{Group: "sue-luzzara-*", Comune: "luzzara", Role: Manager},
			{Group: "unione/archivio", Admin: true},
		},
		Write:  write,
		Comuni: []string{"guastalla", "luzzara"},
	}, store), store
}

// TestRules: roles from assignments and provider groups, grants, and the
// level of assurance needed to write, decided on the Subject Rules builds.
func TestRules(t *testing.T) {
	r, _ := testRules(t)
	tests := []struct {
		name string
		id   auth.Identity
		a    Action
		path string
		want Verdict
	}{
		{"admin by normalized fiscal number", auth.Identity{Name: "RSSMRA80A01H223Y", Method: "local"}, DeleteTree, "/luzzara/x", Allow},
		{"assignment", auth.Identity{Name: "BNCLRA85M41E253K", Method: "local"}, Write, "/guastalla/x", Allow},
		{"assignment elsewhere", auth.Identity{Name: "BNCLRA85M41E253K", Method: "local"}, Read, "/luzzara/x", Hide},
		{"assignment on every Comune", auth.Identity{Name: "tecnico", Method: "local"}, Read, "/guastalla/x", Allow},
		{"the stronger of two assignments", auth.Identity{Name: "tecnico", Method: "local"}, Write, "/luzzara/x", Allow},
		{"the weaker of two assignments elsewhere", auth.Identity{Name: "tecnico", Method: "local"}, Write, "/guastalla/x", Deny},
		{"group pattern", auth.Identity{Name: "VRDGPP70A01H223Z", Method: "app-password"}, DeleteTree, "/luzzara/x", Allow},
		{"group pattern elsewhere", auth.Identity{Name: "VRDGPP70A01H223Z", Method: "app-password"}, Read, "/guastalla/x", Hide},
		{"admin group", auth.Identity{Name: "NREMRA70A01H223X", Method: "app-password"}, Write, "/guastalla/x", Allow},
		{"a slash in a group is no wildcard", auth.Identity{Name: "GLLMRC75A01H223Q", Method: "app-password"}, Read, "/guastalla/x", Hide},
		{"live grant", auth.Identity{Name: "TCNATV80A01H223A", Method: "app-password"}, Read, "/guastalla/2019/PC-1/a.pdf", Allow},
		{"expired grant", auth.Identity{Name: "TCNATV80A01H223A", Method: "app-password"}, Read, "/luzzara/2019/PC-9/a.pdf", Hide},
		{"a grant stored decomposed", auth.Identity{Name: "TCNATV80A01H223A", Method: "app-password"}, Read, "/guastalla/2018/Universit\u00e0/a.pdf", Allow},
		{"live write grant", auth.Identity{Name: "TCNATV80A01H223A", Method: "app-password"}, Write, "/luzzara/2020/PC-3/a.pdf", Allow},
		{"a grant is bound by the level too", auth.Identity{Name: "TCNATV80A01H223A", Method: "session", ACR: oidc.SpidL1}, Write, "/luzzara/2020/PC-3/a.pdf", Deny},
		{"session at SPID level 1 reads", auth.Identity{Name: "BNCLRA85M41E253K", Method: "session", ACR: oidc.SpidL1}, Read, "/guastalla/x", Allow},
		{"session at SPID level 1 cannot write", auth.Identity{Name: "BNCLRA85M41E253K", Method: "session", ACR: oidc.SpidL1}, Write, "/guastalla/x", Deny},
		{"session at SPID level 2 writes", auth.Identity{Name: "BNCLRA85M41E253K", Method: "session", ACR: oidc.SpidL2}, Write, "/guastalla/x", Allow},
		{"a local account's session has no level", auth.Identity{Name: "tecnico", Method: "session"}, Write, "/luzzara/x", Deny},
		{"Bearer token without a level cannot write", auth.Identity{Name: "BNCLRA85M41E253K", Method: "bearer"}, Write, "/guastalla/x", Deny},
		{"Bearer token at level 3 writes", auth.Identity{Name: "BNCLRA85M41E253K", Method: "bearer", ACR: oidc.SpidL3}, Write, "/guastalla/x", Allow},
		{"read-only credential", auth.Identity{Name: "BNCLRA85M41E253K", Method: "app-password", ReadOnly: true}, Write, "/guastalla/x", Deny},
		{"credential scoped to another Comune", auth.Identity{Name: "RSSMRA80A01H223Y", Method: "app-password", Comuni: []string{"luzzara"}}, Read, "/guastalla/x", Hide},
		{"a person nobody named", auth.Identity{Name: "XXXYYY80A01H223Z", Method: "local"}, Read, "/guastalla/x", Hide},
		{"no identity", auth.Identity{}, Read, "/guastalla/x", Hide},
		{"no identity, the root", auth.Identity{}, Read, "/", Allow},
	}
	for _, tt := range tests {
		pol, err := r.Policy(context.Background(), tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if got := pol.Decide(tt.a, tt.path); got != tt.want {
			t.Errorf("%s: %v %s = %v, want %v", tt.name, tt.a, tt.path, got, tt.want)
		}
	}
}

// TestRulesStoreFailure: rights that cannot be read are an error, never
// a subject with fewer (or more) rights than the person has.
func TestRulesStoreFailure(t *testing.T) {
	r, store := testRules(t)
	down := errors.New("store down")
	for _, tt := range []struct {
		name  string
		store fakeStore
	}{
		{"person", fakeStore{people: store.people, grants: store.grants, personErr: down}},
		{"grants", fakeStore{people: store.people, grants: store.grants, grantsErr: down}},
	} {
		r.store = tt.store
		if _, err := r.Policy(context.Background(), auth.Identity{Name: "NREMRA70A01H223X", Method: "session", ACR: oidc.SpidL2}); !errors.Is(err, down) {
			t.Errorf("%s: Policy error = %v, want %v", tt.name, err, down)
		}
		if _, err := r.Manages(context.Background(), "NREMRA70A01H223X"); !errors.Is(err, down) {
			t.Errorf("%s: Manages error = %v, want %v", tt.name, err, down)
		}
	}
}

func TestManages(t *testing.T) {
	r, _ := testRules(t)
	for _, tt := range []struct {
		person string
		want   []string
	}{
		{"RSSMRA80A01H223Y", []string{"guastalla", "luzzara"}}, // admin
		{"NREMRA70A01H223X", []string{"guastalla", "luzzara"}}, // admin group
		{"VRDGPP70A01H223Z", []string{"luzzara"}},              // manager by group
		{"BNCLRA85M41E253K", nil},                              // editor
		{"TCNATV80A01H223A", nil},                              // grants only
		{"nobody", nil},
	} {
		got, err := r.Manages(context.Background(), tt.person)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Manages(%s) = %v, want %v", tt.person, got, tt.want)
		}
	}
}

func TestMatchGroup(t *testing.T) {
	for _, tt := range []struct {
		pattern, group string
		want           bool
	}{
		{"sue-luzzara-*", "sue-luzzara-tecnici", true},
		{"sue-luzzara-*", "sue-luzzara-", true},
		{"sue-luzzara-*", "sue-guastalla-tecnici", false},
		{"*", "unione/archivio", true},
		{"unione/*", "unione/archivio", true},
		{"unione/archivio", "unione/archivio", true},
		{"unione/archivio", "unione-archivio", false},
		{"unione", "unione/archivio", false},
		{"[", "[", false}, // a malformed pattern matches nothing
	} {
		if got := matchGroup(tt.pattern, tt.group); got != tt.want {
			t.Errorf("matchGroup(%q, %q) = %v, want %v", tt.pattern, tt.group, got, tt.want)
		}
	}
}
