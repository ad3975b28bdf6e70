package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/gateway/tlsconf"
)

// maxCertDays is the longest validity offered: macOS and iOS refuse TLS
// server certificates valid for more than 825 days.
const maxCertDays = 825

const certUsage = `Usage: faldone cert --host NAME[,NAME2,IP] --out DIR [--days N]

Write a self-signed certificate (DIR/cert.pem) and its key (DIR/key.pem) for trials and tests.`

// certCmd writes a self-signed certificate and key for trials and tests.
func certCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("cert", certUsage)
	hosts := fs.String("host", "localhost,127.0.0.1,::1", "comma-separated host names and IP addresses clients use to reach the server")
	out := fs.String("out", "", "directory for cert.pem and key.pem (made when missing)")
	days := fs.Int("days", 365, fmt.Sprintf("days of validity, at most %d", maxCertDays))
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return &usageError{usage: certUsage, msg: "usage: faldone cert --host name[,name2,ip] --out DIR [--days N]"}
	}
	if *days < 1 || *days > maxCertDays {
		return fmt.Errorf("--days %d: want 1 to %d (macOS refuses longer-lived certificates)", *days, maxCertDays)
	}
	var names []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			names = append(names, h)
		}
	}
	now := time.Now()
	validFor := time.Duration(*days) * 24 * time.Hour
	certPEM, keyPEM, err := tlsconf.SelfSigned(names, validFor, now)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("cert: %w", err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	// Key first: a running server reloading in between sees a mismatched
	// pair, which it refuses, and then the complete new one.
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeFileAtomic(certFile, certPEM, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `Self-signed certificate for %s, valid until %s (for trials and tests)
  certificate: %s
  key:         %s (keep it secret)
In the configuration:
  tls: {cert_file: %q, key_file: %q}
Clients must trust the certificate (cert.pem, never the key):
  Windows: certutil -addstore -f Root cert.pem   (as administrator; then restart the WebClient service)
  macOS:   sudo security add-trusted-cert -d -k /Library/Keychains/System.keychain cert.pem
  Linux:   sudo cp cert.pem /usr/local/share/ca-certificates/faldone.crt && sudo update-ca-certificates
           (Fedora, RHEL: /etc/pki/ca-trust/source/anchors/ and update-ca-trust)
`, strings.Join(names, ", "), now.Add(validFor).Format("2006-01-02"), certFile, keyFile, certFile, keyFile)
	return nil
}

// writeFileAtomic replaces name with data in one rename, so that a server
// reloading its certificate never reads a half-written file.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".faldone-cert-*")
	if err != nil {
		return fmt.Errorf("cert: %w", err)
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("cert: %w", err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("cert: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cert: %w", err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("cert: %w", err)
	}
	return nil
}
