package gateway

import (
	"net/http"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/gateway/dav"
)

// accessConfig reads the configuration's access section for
// access.NewRules. The configuration was validated: every role parses.
func accessConfig(cfg config.Config, write access.WriteLevel) access.Config {
	c := access.Config{Admins: cfg.Access.Admins, Write: write}
	for _, a := range cfg.Access.Assignments {
		role, _ := access.ParseRole(a.Role)
		c.Assignments = append(c.Assignments, access.Assignment{Person: a.Person, Comune: a.Comune, Role: role})
	}
	for _, g := range cfg.Access.GroupRules {
		role, _ := access.ParseRole(g.Role)
		c.GroupRules = append(c.GroupRules, access.GroupRule{Group: g.Group, Comune: g.Comune, Role: role, Admin: g.Admin})
	}
	for _, m := range cfg.Comuni {
		c.Comuni = append(c.Comuni, m.ID)
	}
	return c
}

// davPolicy is the WebDAV handler's authorization: the live rights of the
// request's identity; a request without one has none.
func davPolicy(rl *access.Rules) func(*http.Request) (dav.Policy, error) {
	return func(r *http.Request) (dav.Policy, error) {
		id, ok := auth.FromContext(r.Context())
		if !ok {
			return access.NewPolicy(access.Subject{}), nil
		}
		pol, err := rl.Policy(r.Context(), id)
		if err != nil {
			return nil, err // not a nil *access.Policy in a non-nil dav.Policy
		}
		return pol, nil
	}
}
