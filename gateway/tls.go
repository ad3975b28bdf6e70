package gateway

import (
	"crypto/tls"
	"log/slog"
	"net/http"

	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/gateway/tlsconf"
)

// tlsConfig is the listener's TLS configuration, nil when TLS is off. It
// loads the certificate now, so that a bad one stops the start.
func tlsConfig(c config.TLS, log *slog.Logger) (*tls.Config, error) {
	if !c.Enabled() {
		return nil, nil
	}
	r, err := tlsconf.NewReloader(c.CertFile, c.KeyFile, log)
	if err != nil {
		return nil, err
	}
	return r.Config(c.MinTLSVersion()), nil
}

// hsts tells browsers to come back over HTTPS only, for a year: on a server
// that serves TLS itself (behind a proxy, the proxy says it). Not for the
// subdomains, which are other services, and no preload.
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}
