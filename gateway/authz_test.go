package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/auth/oidc"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/state"
)

type fakeAccess struct {
	people map[string]state.Person
	grants []state.Grant
}

func (f fakeAccess) Person(_ context.Context, key string) (state.Person, error) {
	p, ok := f.people[key]
	if !ok {
		return state.Person{}, state.ErrNotFound
	}
	return p, nil
}

func (f fakeAccess) Grants(_ context.Context, gf state.GrantFilter) ([]state.Grant, error) {
	var out []state.Grant
	for _, g := range f.grants {
		if g.Person == gf.Person && (!gf.Live || gf.Now.Before(g.Expires)) {
			out = append(out, g)
		}
	}
	return out, nil
}

// TestAccessConfig: the configuration's access section reaches the rules
// (auth/access tests the rules themselves): roles from assignments and
// provider groups, grants, and the level of assurance needed to write.
func TestAccessConfig(t *testing.T) {
	cfg := config.Default()
	cfg.Comuni = []config.Comune{{ID: "guastalla"}, {ID: "luzzara"}}
	cfg.Access = config.Access{
		Admins:      []string{"tinit-rssmra80a01h223y"},
		Assignments: []config.Assignment{{Person: "BNCLRA85M41E253K", Comune: "guastalla", Role: "editor"}},
		GroupRules: []config.GroupRule{
			{Group: "sue-luzzara-*", Comune: "luzzara", Role: "manager"},
			{Group: "unione/archivio", Admin: true},
		},
		MinWriteACR: oidc.SpidL2,
	}
	now := time.Now()
	store := fakeAccess{
		people: map[string]state.Person{
			"VRDGPP70A01H223Z": {Key: "VRDGPP70A01H223Z", Groups: []string{"sue-luzzara-tecnici"}},
			"NREMRA70A01H223X": {Key: "NREMRA70A01H223X", Groups: []string{"unione/archivio"}},
		},
		grants: []state.Grant{
			{Person: "TCNATV80A01H223A", Path: "/guastalla/2019/PC-1", Expires: now.Add(time.Hour)},
			{Person: "TCNATV80A01H223A", Path: "/luzzara/2019/PC-9", Expires: now.Add(-time.Hour)},
		},
	}
	write, err := access.NewWriteLevel(cfg.Access.MinWriteACR)
	if err != nil {
		t.Fatal(err)
	}
	r := access.NewRules(accessConfig(cfg, write), store)
	tests := []struct {
		name string
		id   auth.Identity
		a    access.Action
		path string
		want access.Verdict
	}{
		{"admin by normalized fiscal number", auth.Identity{Name: "RSSMRA80A01H223Y", Method: "local"}, access.DeleteTree, "/luzzara/x", access.Allow},
		{"assignment", auth.Identity{Name: "BNCLRA85M41E253K", Method: "local"}, access.Write, "/guastalla/x", access.Allow},
		{"assignment elsewhere", auth.Identity{Name: "BNCLRA85M41E253K", Method: "local"}, access.Read, "/luzzara/x", access.Hide},
		{"group pattern", auth.Identity{Name: "VRDGPP70A01H223Z", Method: "app-password"}, access.DeleteTree, "/luzzara/x", access.Allow},
		{"admin group", auth.Identity{Name: "NREMRA70A01H223X", Method: "app-password"}, access.Write, "/guastalla/x", access.Allow},
		{"live grant", auth.Identity{Name: "TCNATV80A01H223A", Method: "app-password"}, access.Read, "/guastalla/2019/PC-1/a.pdf", access.Allow},
		{"expired grant", auth.Identity{Name: "TCNATV80A01H223A", Method: "app-password"}, access.Read, "/luzzara/2019/PC-9/a.pdf", access.Hide},
		{"session at SPID level 1 reads", auth.Identity{Name: "BNCLRA85M41E253K", Method: "session", ACR: oidc.SpidL1}, access.Read, "/guastalla/x", access.Allow},
		{"session at SPID level 1 cannot write", auth.Identity{Name: "BNCLRA85M41E253K", Method: "session", ACR: oidc.SpidL1}, access.Write, "/guastalla/x", access.Deny},
		{"session at SPID level 2 writes", auth.Identity{Name: "BNCLRA85M41E253K", Method: "session", ACR: oidc.SpidL2}, access.Write, "/guastalla/x", access.Allow},
		{"Bearer token without a level cannot write", auth.Identity{Name: "BNCLRA85M41E253K", Method: "bearer"}, access.Write, "/guastalla/x", access.Deny},
		{"Bearer token at level 3 writes", auth.Identity{Name: "BNCLRA85M41E253K", Method: "bearer", ACR: oidc.SpidL3}, access.Write, "/guastalla/x", access.Allow},
	}
	for _, tt := range tests {
		s, err := r.Subject(context.Background(), tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if got := access.NewPolicy(s).Decide(tt.a, tt.path); got != tt.want {
			t.Errorf("%s: %v %s = %v, want %v", tt.name, tt.a, tt.path, got, tt.want)
		}
	}
}
