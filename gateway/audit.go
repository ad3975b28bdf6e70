package gateway

import (
	"net/http"
	"net/url"

	"github.com/bassareggiana/faldone/auth/access"
)

// comunes files audit records under a Comune: the first name of a path is
// one only when it is configured.
type comunes map[string]bool

func newComunes(ids []string) comunes {
	c := comunes{}
	for _, id := range ids {
		c[id] = true
	}
	return c
}

// comuneOf returns the Comune of a namespace path, or "" for a path
// outside every Comune (the root, or a name a client probed).
func (a comunes) comuneOf(p string) string {
	c, _ := access.SplitComune(p)
	if !a[c] {
		return ""
	}
	return c
}

// destinationPath is the path of a Destination header, for the record.
func destinationPath(r *http.Request) string {
	d := r.Header.Get("Destination")
	if d == "" {
		return ""
	}
	if u, err := url.Parse(d); err == nil {
		return u.Path
	}
	return d
}
