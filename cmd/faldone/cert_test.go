package main

import (
	"crypto/tls"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTLSCertCommand(t *testing.T) {
	tests := []struct {
		name      string
		args      []string // after --out DIR
		wantNames []string
		wantIPs   int
		wantDays  int
		wantErr   string
	}{
		{name: "defaults", wantNames: []string{"localhost"}, wantIPs: 2, wantDays: 365},
		{name: "hosts and days", args: []string{"--host", "archivio.bassareggiana.it, 192.0.2.7", "--days", "30"},
			wantNames: []string{"archivio.bassareggiana.it"}, wantIPs: 1, wantDays: 30},
		{name: "too long for macOS", args: []string{"--days", "3650"}, wantErr: "825"},
		{name: "no days", args: []string{"--days", "0"}, wantErr: "--days"},
		{name: "not a host", args: []string{"--host", "archivio/x"}, wantErr: "archivio/x"},
		{name: "no hosts", args: []string{"--host", " , "}, wantErr: "no host"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tls") // made by the command
			var out strings.Builder
			err := run(append([]string{"cert", "--out", dir}, tt.args...), &out, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			pair, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				t.Fatalf("the pair does not load: %v", err)
			}
			leaf := pair.Leaf
			if strings.Join(leaf.DNSNames, ",") != strings.Join(tt.wantNames, ",") || len(leaf.IPAddresses) != tt.wantIPs {
				t.Errorf("names %v, addresses %v", leaf.DNSNames, leaf.IPAddresses)
			}
			if days := time.Until(leaf.NotAfter).Hours() / 24; days < float64(tt.wantDays)-1 || days > float64(tt.wantDays) {
				t.Errorf("valid for %.1f more days, want %d", days, tt.wantDays)
			}
			if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("key mode %v (%v), want 0600", fi.Mode().Perm(), err)
			}
			if !strings.Contains(out.String(), certFile) || !strings.Contains(out.String(), "cert_file") {
				t.Errorf("the output does not say how to configure the pair:\n%s", out.String())
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("the directory holds %d files, want cert.pem and key.pem only", len(entries))
			}
		})
	}
}

// TestTLSCertCommandReplaces: running the command again replaces the pair,
// the way a running server picks up a renewal.
func TestTLSCertCommandReplaces(t *testing.T) {
	dir := t.TempDir()
	var serials []string
	for range 2 {
		if err := run([]string{"cert", "--out", dir}, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, pair.Leaf.SerialNumber.String())
	}
	if serials[0] == serials[1] {
		t.Error("the second run left the first certificate")
	}
}
