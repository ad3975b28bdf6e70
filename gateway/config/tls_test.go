package config

import (
	"crypto/tls"
	"strings"
	"testing"
)

func TestTLSAndProxies(t *testing.T) {
	runLoadCases(t, []loadCase{
		{name: "off by default", check: func(c Config) bool {
			return !c.TLS.Enabled() && c.TLS.MinTLSVersion() == tls.VersionTLS12 && len(c.TrustedProxies) == 0
		}},
		{name: "file keys", yaml: "tls:\n  cert_file: /etc/faldone/cert.pem\n  key_file: /etc/faldone/key.pem\n  min_version: 1.3\ntrusted_proxies: [10.0.0.0/8, \"::1\"]\n",
			check: func(c Config) bool {
				return c.TLS.Enabled() && c.TLS.CertFile == "/etc/faldone/cert.pem" && c.TLS.KeyFile == "/etc/faldone/key.pem" &&
					c.TLS.MinTLSVersion() == tls.VersionTLS13 && strings.Join(c.TrustedProxies, " ") == "10.0.0.0/8 ::1"
			}},
		{name: "environment", env: map[string]string{"FALDONE_TLS_CERT_FILE": "c.pem", "FALDONE_TLS_KEY_FILE": "k.pem",
			"FALDONE_TLS_MIN_VERSION": "1.3", "FALDONE_TRUSTED_PROXIES": "127.0.0.1, 192.168.0.0/16"},
			check: func(c Config) bool {
				return c.TLS.CertFile == "c.pem" && c.TLS.KeyFile == "k.pem" && c.TLS.MinTLSVersion() == tls.VersionTLS13 &&
					strings.Join(c.TrustedProxies, " ") == "127.0.0.1 192.168.0.0/16"
			}},
		{name: "certificate without key", yaml: "tls:\n  cert_file: c.pem\n", wantErr: "go together"},
		{name: "key without certificate", yaml: "tls:\n  key_file: k.pem\n", wantErr: "go together"},
		{name: "old version", yaml: "tls:\n  min_version: \"1.0\"\n", wantErr: "tls.min_version"},
		{name: "bad proxy", yaml: "trusted_proxies: [proxy.example]\n", wantErr: "proxy.example"},
		{name: "bad prefix", yaml: "trusted_proxies: [10.0.0.0/40]\n", wantErr: "10.0.0.0/40"},
	})
}
