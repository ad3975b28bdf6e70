// Package tlsconf gives the gateway its TLS: a certificate and key read from
// files and reloaded when they change, so that a renewed certificate (from
// an ACME client, a script, an operator) takes effect without a restart and
// without dropping the drives people have mapped; and self-signed pairs for
// trials and tests.
package tlsconf

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// checkEvery is how often, at most, a handshake looks at the files again.
// A renewal reaches clients within this long; more often would only cost
// stat calls under a burst of handshakes.
const checkEvery = 5 * time.Second

// Reloader serves the certificate and key in two PEM files. A handshake
// stats both files (at most every checkEvery) and reloads them when either
// changed: another file, another modification time or size. A pair that does
// not load — half-written, mismatched, corrupt — leaves the previous one in
// service and is logged once, until the files change again; a file that
// cannot be read at all is logged at every check.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger
	every             time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	seen    [2]os.FileInfo // the files at the last attempt to load them
	checked time.Time
}

// NewReloader loads the pair once; an error here keeps the server from
// starting, rather than serving handshakes that would all fail.
func NewReloader(certFile, keyFile string, log *slog.Logger) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log, every: checkEvery}
	// Stat before reading: a change in between shows at the next check.
	seen, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cert, r.seen, r.checked = cert, seen, time.Now()
	return r, nil
}

// Config is the listener's TLS configuration: the reloaded certificate,
// at least minVersion, and Go's defaults for the rest (cipher suites, curves
// and their order follow current advice, and HTTP/2 is offered by
// http.Server.ServeTLS).
func (r *Reloader) Config(minVersion uint16) *tls.Config {
	return &tls.Config{MinVersion: minVersion, GetCertificate: r.GetCertificate}
}

// GetCertificate returns the current certificate, reloading it first when
// the files changed. It is tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Handshakes wait while one of them reloads: they get the new pair, and
	// a burst of them reads the files once.
	if now := time.Now(); now.Sub(r.checked) >= r.every {
		r.checked = now
		r.refresh()
	}
	return r.cert, nil
}

// refresh reloads the pair if the files changed since the last attempt.
func (r *Reloader) refresh() {
	seen, err := r.stat()
	if err != nil {
		r.log.Error("TLS certificate not reloaded, keeping the current one", "err", err)
		return
	}
	if sameFile(seen[0], r.seen[0]) && sameFile(seen[1], r.seen[1]) {
		return
	}
	r.seen = seen
	cert, err := r.load()
	if err != nil {
		r.log.Error("TLS certificate not reloaded, keeping the current one", "err", err)
		return
	}
	r.cert = cert
}

func (r *Reloader) stat() ([2]os.FileInfo, error) {
	var fi [2]os.FileInfo
	for i, name := range []string{r.certFile, r.keyFile} {
		var err error
		if fi[i], err = os.Stat(name); err != nil {
			return fi, fmt.Errorf("TLS: %w", err)
		}
	}
	return fi, nil
}

func (r *Reloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	leaf := cert.Leaf // parsed by LoadX509KeyPair
	r.log.Info("TLS certificate loaded", "file", r.certFile, "subject", leaf.Subject.String(),
		"names", leaf.DNSNames, "ips", leaf.IPAddresses, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	if now := time.Now(); now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		r.log.Warn("TLS certificate is not valid now: clients will refuse it", "file", r.certFile,
			"not_before", leaf.NotBefore.UTC().Format(time.RFC3339), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return &cert, nil
}

// sameFile reports whether a and b describe the same file with the same
// content, as far as a stat can tell: the same inode (a replacement by
// rename, as ACME clients and Kubernetes secrets do, makes a new one), the
// same modification time and size (an overwrite in place changes those).
func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}
