package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects log lines written from handshake goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// pairDir holds a certificate and key the way an operator keeps them, and
// makes new pairs for them.
type pairDir struct {
	t                 *testing.T
	certFile, keyFile string
	roots             *x509.CertPool // every certificate made, for the client
	stamp             time.Time
}

func newPairDir(t *testing.T) *pairDir {
	dir := t.TempDir()
	return &pairDir{t: t, certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"),
		roots: x509.NewCertPool(), stamp: time.Now()}
}

// newPair makes a pair for localhost whose subject is name.
func (d *pairDir) newPair(name string) (certPEM, keyPEM []byte) {
	d.t.Helper()
	certPEM, keyPEM, err := SelfSigned([]string{name, "localhost"}, time.Hour, time.Now())
	if err != nil {
		d.t.Fatal(err)
	}
	d.roots.AppendCertsFromPEM(certPEM)
	return certPEM, keyPEM
}

// write overwrites name in place. Each write gets a later modification
// time: some file systems stamp at a few milliseconds' resolution, and a
// key is as long as the one it replaces.
func (d *pairDir) write(name string, data []byte) {
	d.t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		d.t.Fatal(err)
	}
	d.stamp = d.stamp.Add(time.Second)
	if err := os.Chtimes(name, d.stamp, d.stamp); err != nil {
		d.t.Fatal(err)
	}
}

// rename replaces name with a new file, as ACME clients do.
func (d *pairDir) rename(name string, data []byte) {
	d.t.Helper()
	tmp := name + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		d.t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		d.t.Fatal(err)
	}
}

// serve starts a TLS listener on r and returns a function that makes a new
// handshake and reports the subject of the certificate the server showed.
func serve(t *testing.T, r *Reloader, roots *x509.CertPool) func() string {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.Config(tls.VersionTLS12))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.(*tls.Conn).Handshake()
			}()
		}
	}()
	return func() string {
		t.Helper()
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "localhost"})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
}

func TestTLSReload(t *testing.T) {
	tests := []struct {
		name string
		// replace changes the files after "first" was loaded.
		replace func(d *pairDir)
		want    string // the subject served after replace
		wantLog string // in the log after replace
	}{
		{name: "new pair written in place", replace: func(d *pairDir) {
			c, k := d.newPair("second")
			d.write(d.keyFile, k)
			d.write(d.certFile, c)
		}, want: "second", wantLog: "TLS certificate loaded"},
		{name: "new pair renamed into place", replace: func(d *pairDir) {
			c, k := d.newPair("second")
			d.rename(d.keyFile, k)
			d.rename(d.certFile, c)
		}, want: "second", wantLog: "TLS certificate loaded"},
		{name: "corrupt certificate", replace: func(d *pairDir) {
			d.write(d.certFile, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n"))
		}, want: "first", wantLog: "not reloaded"},
		{name: "half-written certificate", replace: func(d *pairDir) {
			c, _ := d.newPair("second")
			d.write(d.certFile, c[:len(c)/2])
		}, want: "first", wantLog: "not reloaded"},
		{name: "key of another pair", replace: func(d *pairDir) {
			_, k := d.newPair("second")
			d.write(d.keyFile, k)
		}, want: "first", wantLog: "not reloaded"},
		{name: "certificate removed", replace: func(d *pairDir) {
			if err := os.Remove(d.certFile); err != nil {
				d.t.Fatal(err)
			}
		}, want: "first", wantLog: "not reloaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newPairDir(t)
			c, k := d.newPair("first")
			d.write(d.certFile, c)
			d.write(d.keyFile, k)
			var logs syncBuffer
			r, err := NewReloader(d.certFile, d.keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			r.every = 0 // look at the files on every handshake
			served := serve(t, r, d.roots)
			if got := served(); got != "first" {
				t.Fatalf("served %q before the change, want first", got)
			}
			tt.replace(d)
			if got := served(); got != tt.want {
				t.Errorf("served %q after the change, want %q", got, tt.want)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs.String())
			}
			// Whatever happened, a good pair put in place afterwards is served.
			c, k = d.newPair("third")
			d.write(d.keyFile, k)
			d.write(d.certFile, c)
			if got := served(); got != "third" {
				t.Errorf("served %q after a good pair followed, want third", got)
			}
		})
	}
}

// TestTLSReloadInterval: between checks, handshakes do not look at the files.
func TestTLSReloadInterval(t *testing.T) {
	d := newPairDir(t)
	c, k := d.newPair("first")
	d.write(d.certFile, c)
	d.write(d.keyFile, k)
	r, err := NewReloader(d.certFile, d.keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r.every = time.Hour
	served := serve(t, r, d.roots)
	c, k = d.newPair("second")
	d.write(d.keyFile, k)
	d.write(d.certFile, c)
	if got := served(); got != "first" {
		t.Errorf("served %q before the next check was due, want first", got)
	}
	r.mu.Lock()
	r.checked = time.Time{} // the check is due
	r.mu.Unlock()
	if got := served(); got != "second" {
		t.Errorf("served %q once the check was due, want second", got)
	}
}

func TestTLSReloaderRefusesBadPair(t *testing.T) {
	d := newPairDir(t)
	c, _ := d.newPair("first")
	_, k := d.newPair("other")
	d.write(d.certFile, c)
	d.write(d.keyFile, k)
	if _, err := NewReloader(d.certFile, d.keyFile, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a mismatched pair was accepted at start")
	}
	if _, err := NewReloader(d.certFile+".missing", d.keyFile, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a missing certificate was accepted at start")
	}
}
