package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

func TestTLSSelfSigned(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		hosts   []string
		valid   time.Duration
		verify  []string // names a client may reach the server under
		refuse  []string // and names it may not
		wantErr string
	}{
		{name: "defaults", hosts: []string{"localhost", "127.0.0.1", "::1"}, valid: 24 * time.Hour,
			verify: []string{"localhost", "127.0.0.1", "::1"}, refuse: []string{"example.org", "127.0.0.2"}},
		{name: "public name", hosts: []string{"archivio.bassareggiana.it"}, valid: time.Hour,
			verify: []string{"archivio.bassareggiana.it"}, refuse: []string{"localhost"}},
		{name: "wildcard", hosts: []string{"*.bassareggiana.it"}, valid: time.Hour,
			verify: []string{"archivio.bassareggiana.it"}, refuse: []string{"bassareggiana.it"}},
		{name: "no hosts", valid: time.Hour, wantErr: "no host"},
		{name: "not a host", hosts: []string{"https://archivio/"}, valid: time.Hour, wantErr: "neither"},
		{name: "no validity", hosts: []string{"localhost"}, wantErr: "validity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, keyPEM, err := SelfSigned(tt.hosts, tt.valid, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			pair, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				t.Fatalf("the pair does not load: %v", err)
			}
			leaf := pair.Leaf
			if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
				t.Errorf("key %T, want ECDSA P-256", leaf.PublicKey)
			}
			if leaf.IsCA || leaf.KeyUsage&x509.KeyUsageCertSign != 0 {
				t.Error("the certificate can sign certificates")
			}
			if !leaf.NotAfter.Equal(now.Add(tt.valid)) || leaf.NotBefore.After(now) {
				t.Errorf("valid %v to %v, want from before %v for %v", leaf.NotBefore, leaf.NotAfter, now, tt.valid)
			}
			roots := x509.NewCertPool()
			roots.AddCert(leaf)
			check := func(name string) error {
				_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: now})
				return err
			}
			for _, n := range tt.verify {
				if err := check(n); err != nil {
					t.Errorf("a client trusting the certificate refuses %s: %v", n, err)
				}
			}
			for _, n := range tt.refuse {
				if check(n) == nil {
					t.Errorf("the certificate is good for %s", n)
				}
			}
		})
	}
}
