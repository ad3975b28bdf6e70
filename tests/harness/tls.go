package harness

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"testing"
)

// StartServeTLS is StartServe for a configuration that turns TLS on (yaml
// sets tls.cert_file and tls.key_file): the Gateway's URL is
// https://127.0.0.1:PORT, and its requests (Do, Status, Client) trust only
// the PEM certificates in caFile.
func StartServeTLS(t testing.TB, yaml, caFile string, env ...string) *Gateway {
	t.Helper()
	client := TrustingClient(t, caFile)
	g := StartServe(t, yaml, env...)
	g.client = client
	g.URL = g.scheme() + "://" + strings.TrimPrefix(g.URL, "http://")
	return g
}

// TrustingClient is an HTTP client that trusts only the PEM certificates in
// caFile. It speaks HTTP/2 where the server offers it, as browsers and
// drive clients do.
func TrustingClient(t testing.TB, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true, // a custom TLSClientConfig turns it off otherwise
	}}
}

// Client is the HTTP client the Gateway's requests go through.
func (g *Gateway) Client() *http.Client {
	if g.client != nil {
		return g.client
	}
	return http.DefaultClient
}

func (g *Gateway) scheme() string {
	if g.client != nil {
		return "https"
	}
	return "http"
}
