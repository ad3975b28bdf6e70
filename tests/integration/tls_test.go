package integration

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestTLSServe: a certificate from `faldone cert` serves the drive over
// HTTPS (HTTP/2 included) to a client that trusts it; a client that does
// not refuses it, and plain HTTP to the TLS port gets a 400 without
// disturbing the server.
func TestTLSServe(t *testing.T) {
	dir := t.TempDir()
	out, err := faldone(t, "", "cert", "--host", "localhost,127.0.0.1", "--out", dir, "--days", "2")
	if err != nil {
		t.Fatalf("faldone cert: %v\n%s", err, out)
	}
	for _, want := range []string{"certutil -addstore", "security add-trusted-cert", "update-ca-certificates"} {
		if !strings.Contains(out, want) {
			t.Errorf("faldone cert does not say how to trust the certificate (%q):\n%s", want, out)
		}
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	g := harness.StartServeTLS(t, fmt.Sprintf("tls:\n  cert_file: %q\n  key_file: %q\n", certFile, keyFile), certFile)
	if !strings.HasPrefix(g.URL, "https://") {
		t.Fatalf("gateway URL %s", g.URL)
	}

	resp := g.Do("PROPFIND", "/", map[string]string{"Depth": "1"}, nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(string(body), "/guastalla/") {
		t.Fatalf("PROPFIND over HTTPS: %d\n%.300s", resp.StatusCode, body)
	}
	if resp.TLS == nil || resp.ProtoMajor != 2 {
		t.Errorf("PROPFIND went over %s, TLS %v; want HTTP/2 over TLS", resp.Proto, resp.TLS != nil)
	}
	// Destination headers name the https URL.
	if code, _, _ := g.Status("PUT", "/guastalla/prova.txt", nil, "contenuto"); code != http.StatusCreated {
		t.Fatalf("PUT over HTTPS: %d", code)
	}
	if code, _, _ := g.Status("MOVE", "/guastalla/prova.txt", map[string]string{"Destination": g.URL + "/guastalla/spostato.txt"}, ""); code != http.StatusCreated {
		t.Errorf("MOVE to %s: %d, want 201", g.URL+"/guastalla/spostato.txt", code)
	}
	// The pages set Secure cookies.
	_, _, h := g.Status("GET", "/_/accedi", nil, "")
	if c := h.Get("Set-Cookie"); c == "" || !strings.Contains(c, "Secure") {
		t.Errorf("sign-in page cookie over HTTPS is not Secure: %q", c)
	}

	// A client that does not trust the certificate refuses the server.
	if _, err := (&http.Client{Timeout: 10 * time.Second}).Get(g.URL + "/"); !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Errorf("a client without the certificate: %v, want an unknown authority error", err)
	}

	// Plain HTTP to the TLS port: a clear 400, not a hang or garbage.
	plain := "http://" + strings.TrimPrefix(g.URL, "https://") + "/"
	presp, err := (&http.Client{Timeout: 10 * time.Second}).Get(plain)
	if err != nil {
		t.Fatalf("plain HTTP to the TLS port: %v", err)
	}
	pbody, _ := io.ReadAll(presp.Body)
	presp.Body.Close()
	if presp.StatusCode != http.StatusBadRequest || !strings.Contains(string(pbody), "HTTPS") {
		t.Errorf("plain HTTP to the TLS port: %d %q, want 400 naming HTTPS", presp.StatusCode, pbody)
	}
	if code, _, _ := g.Status("PROPFIND", "/", map[string]string{"Depth": "0"}, ""); code != http.StatusMultiStatus {
		t.Errorf("PROPFIND after the plain request: %d", code)
	}
	if !strings.Contains(g.Log(), "tls=true") || !strings.Contains(g.Log(), "TLS certificate loaded") {
		t.Errorf("the log does not say TLS is on:\n%s", tail(g.Log(), 2000))
	}
}

// TestTLSRefusesBadCertificate: a key that does not match the certificate
// stops the start, naming the files.
func TestTLSRefusesBadCertificate(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if out, err := faldone(t, "", "cert", "--out", dir); err != nil {
			t.Fatalf("faldone cert: %v\n%s", err, out)
		}
	}
	cfg := filepath.Join(a, "faldone.yaml")
	yaml := fmt.Sprintf("tls:\n  cert_file: %q\n  key_file: %q\n", filepath.Join(a, "cert.pem"), filepath.Join(b, "key.pem"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := faldone(t, "", "serve", "--config", cfg, "--listen", "127.0.0.1:0", "--data", a)
	if err == nil || !strings.Contains(out, "cert.pem") {
		t.Fatalf("serve with a mismatched key: %v\n%s", err, out)
	}
}

// TestProxyHeaders: behind a trusted proxy the client's address (for
// throttling and logs), the public host (for Destination) and the scheme
// (for Secure cookies) come from X-Forwarded-*; the same headers from any
// other peer change nothing.
func TestProxyHeaders(t *testing.T) {
	g := harness.StartServe(t, "trusted_proxies: [127.0.0.2]\n")
	proxy, other := clientFrom("127.0.0.2"), clientFrom("127.0.0.3")
	send := func(c *http.Client, method, path, pass string, h map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, g.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pass != "" {
			req.SetBasicAuth(g.User, pass)
		}
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// Throttling counts the client behind the proxy, whatever it claims
	// further left in the chain.
	attacker := map[string]string{"Depth": "0"}
	for i := 0; i < 12; i++ {
		attacker["X-Forwarded-For"] = fmt.Sprintf("192.0.2.%d, 198.51.100.7", i)
		send(proxy, "PROPFIND", "/", "sbagliata", attacker)
	}
	if code := send(proxy, "PROPFIND", "/", g.Pass, attacker).StatusCode; code != http.StatusTooManyRequests {
		t.Errorf("the throttled client behind the proxy: %d, want 429", code)
	}
	colleague := map[string]string{"Depth": "0", "X-Forwarded-For": "198.51.100.8"}
	if code := send(proxy, "PROPFIND", "/", g.Pass, colleague).StatusCode; code != http.StatusMultiStatus {
		t.Errorf("another client behind the same proxy: %d, want 207", code)
	}
	for deadline := time.Now().Add(3 * time.Second); !strings.Contains(g.Log(), "remote=198.51.100.7:0") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(g.Log(), "remote=198.51.100.7:0") {
		t.Errorf("the log does not name the client behind the proxy:\n%s", tail(g.Log(), 2000))
	}
	// The same header from a peer that is not a proxy is ignored.
	send(other, "PROPFIND", "/", g.Pass, map[string]string{"Depth": "0", "X-Forwarded-For": "198.51.100.9"})
	// The access log line is written after the answer leaves: wait for it.
	for deadline := time.Now().Add(3 * time.Second); !strings.Contains(g.Log(), "remote=127.0.0.3:") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(g.Log(), "198.51.100.9") || !strings.Contains(g.Log(), "remote=127.0.0.3:") {
		t.Error("X-Forwarded-For from an untrusted peer reached the log, or the peer did not")
	}

	// The public host is the request's host for Destination checks.
	if code := send(proxy, "PUT", "/guastalla/prova.txt", g.Pass, nil).StatusCode; code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	public := map[string]string{"X-Forwarded-Host": "archivio.bassareggiana.example", "X-Forwarded-Proto": "https",
		"Destination": "https://archivio.bassareggiana.example/guastalla/copia-1.txt"}
	if code := send(proxy, "COPY", "/guastalla/prova.txt", g.Pass, public).StatusCode; code != http.StatusCreated {
		t.Errorf("COPY to the public host through the proxy: %d, want 201", code)
	}
	public["Destination"] = "https://archivio.bassareggiana.example/guastalla/copia-2.txt"
	if code := send(other, "COPY", "/guastalla/prova.txt", g.Pass, public).StatusCode; code != http.StatusBadGateway {
		t.Errorf("COPY to the claimed host from an untrusted peer: %d, want 502", code)
	}

	// X-Forwarded-Proto: https makes the pages' cookies Secure.
	secure := func(c *http.Client) bool {
		resp := send(c, "GET", "/_/accedi", "", map[string]string{"X-Forwarded-Proto": "https"})
		return strings.Contains(resp.Header.Get("Set-Cookie"), "Secure")
	}
	if !secure(proxy) {
		t.Error("behind the proxy with X-Forwarded-Proto: https, the cookie is not Secure")
	}
	if secure(other) {
		t.Error("an untrusted peer's X-Forwarded-Proto made the cookie Secure")
	}
}
