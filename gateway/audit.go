package gateway

import (
	"net/http"
	"net/url"
	"time"

	"github.com/bassareggiana/faldone/audit"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/state"
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

// record is the audit record of a request to the archive: by person with
// credential, method on the namespace path p, answered status with n
// bytes, begun at start. The one place a request's record is built.
func (a comunes) record(r *http.Request, start time.Time, person, credential, method, p string, status int, n int64) state.AuditRecord {
	return state.AuditRecord{
		Time: start.UTC(), RequestID: audit.RequestID(r.Context()), Person: person, Credential: credential,
		Client: audit.Client(r), Method: method, Path: p, Target: r.RequestURI,
		Destination: destinationPath(r), Comune: a.comuneOf(p), Status: status, Bytes: n,
		SHA256: audit.TakeSHA256(r.Context()),
	}
}
