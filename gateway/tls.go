package gateway

import (
	"crypto/tls"
	"log/slog"

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
