// Package docs tests the documentation: the blocks of docs/deployment.md
// marked "<!-- tested: NAME -->" are run as written, with names and paths
// substituted, against the real systemd-analyze, PostgreSQL and binary.
package docs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bassareggiana/faldone/tests/harness"
)

// block returns the fenced block that follows the marker of name.
func block(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(harness.Root(), "docs", "deployment.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- tested: "+name+" ")
	if !ok {
		t.Fatalf("docs/deployment.md has no block marked %q", name)
	}
	lines := strings.Split(rest, "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "```") {
		t.Fatalf("the marker %q is not right before a fenced block", name)
	}
	var b strings.Builder
	for _, l := range lines[2:] {
		if strings.HasPrefix(l, "```") {
			return b.String()
		}
		b.WriteString(l + "\n")
	}
	t.Fatalf("the block %q does not end", name)
	return ""
}

// endComment is a value followed by what its author meant as a comment:
// systemd has comments only at the start of a line, so it is part of the
// value (a time that does not parse, a file name with "# …" in it).
var endComment = regexp.MustCompile(`(?m)^[A-Za-z]+=.*[ \t]#`)

// TestSystemdUnit: the documented unit passes systemd-analyze verify with
// no complaint, and the check catches the faults the unit once had.
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is missing: tests/run installs systemd")
	}
	unit := block(t, "systemd-unit")
	bin := harness.Binary(t) // ExecStart must name an executable
	if !strings.Contains(unit, "ExecStart=/usr/local/bin/faldone ") {
		t.Fatalf("the unit does not start /usr/local/bin/faldone:\n%s", unit)
	}
	for _, tt := range []struct {
		name string
		unit string
		ok   bool
	}{
		{"the documented unit", unit, true},
		{"a comment after a time", strings.Replace(unit, "TimeoutStopSec=90\n", "TimeoutStopSec=90   # more than shutdown_grace\n", 1), false},
		{"a comment after a file name", strings.Replace(unit, "EnvironmentFile=/etc/faldone/env\n", "EnvironmentFile=/etc/faldone/env   # FALDONE_STATE_URL=…\n", 1), false},
		{"a misspelt key", strings.Replace(unit, "Restart=on-failure", "Restart=on-failur", 1), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.unit == unit && !tt.ok {
				t.Fatal("the substitution did not apply: the row tests nothing")
			}
			path := filepath.Join(t.TempDir(), "faldone.service")
			text := strings.ReplaceAll(tt.unit, "/usr/local/bin/faldone", bin)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			// verify checks a unit file by its path, without a running
			// systemd; it reports some faults only as warnings, exit 0.
			out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
			problems := strings.TrimSpace(string(out))
			if err != nil && problems == "" {
				problems = err.Error()
			}
			if m := endComment.FindString(tt.unit); m != "" {
				problems += "\nend-of-line comment: " + m
			}
			if ok := problems == ""; ok != tt.ok {
				t.Errorf("verified clean: %v, want %v\n%s", ok, tt.ok, problems)
			}
		})
	}
}

// TestPostgresSteps follows the PostgreSQL steps on the machine's own
// PostgreSQL, under names of its own: the documented SQL makes a role that
// logs in with a password and owns its database; the documented key file
// and FALDONE_STATE_URL (the password in it, sslmode=require) start the
// real binary, which applies its migrations as that role and is ready; the
// same URL with verify-full fails on a cluster with the stock self-signed
// certificate, as the document warns, without showing the password.
func TestPostgresSteps(t *testing.T) {
	admin := os.Getenv("FALDONE_TEST_POSTGRES")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	au, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "faldone_doc_" + hex.EncodeToString(b[:])
	rand.Read(b[:])
	password := "pw" + hex.EncodeToString(b[:])
	// The doc's names, substituted: the role and database "faldone", the
	// password, the database host.
	word := regexp.MustCompile(`\bfaldone\b`)
	subst := func(s string) string {
		s = strings.ReplaceAll(s, "CHANGE-ME", password)
		s = strings.ReplaceAll(s, "db.internal:5432", au.Host)
		return word.ReplaceAllString(s, name)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable (%v): the test command starts it", err)
	}
	defer conn.Close(context.Background())
	t.Cleanup(func() { // after the gateway has stopped
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Exec(ctx, "DROP ROLE IF EXISTS "+name)
			c.Close(ctx)
		}
	})
	sql := subst(block(t, "postgres-sql"))
	n := 0
	for _, stmt := range strings.Split(sql, ";") {
		if stmt = strings.TrimSpace(stmt); stmt == "" || strings.HasPrefix(stmt, "--") {
			continue
		}
		if _, err := conn.Exec(ctx, stmt); err != nil { // one by one: CREATE DATABASE stands alone
			t.Fatalf("%s: %v", stmt, err)
		}
		n++
	}
	var login, super bool
	var scram, owner string
	err = conn.QueryRow(ctx, `SELECT r.rolcanlogin, r.rolsuper, coalesce(r.rolpassword, ''), pg_get_userbyid(d.datdba)
		FROM pg_authid r, pg_database d WHERE r.rolname = $1 AND d.datname = $1`, name).Scan(&login, &super, &scram, &owner)
	if err != nil || n != 2 || !login || super || !strings.HasPrefix(scram, "SCRAM-SHA-256$") || owner != name {
		t.Fatalf("after the %d statements: %v; login %v, superuser %v, password %.14q, owner %q", n, err, login, super, scram, owner)
	}

	// The key file, made as documented in a folder of the test's.
	keyFile := filepath.Join(t.TempDir(), "faldone.key")
	script := strings.ReplaceAll(block(t, "key-file"), "/etc/faldone/faldone.key", keyFile)
	script = strings.ReplaceAll(script, "chgrp faldone ", fmt.Sprintf("chgrp %d ", os.Getgid()))
	if out, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("the key file steps: %v\n%s", err, out)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("key file: %v, mode %v, want 0640 (the service's group reads it)", err, fi.Mode().Perm())
	}

	var stateURL string
	for _, line := range strings.Split(block(t, "env-file"), "\n") {
		if v, ok := strings.CutPrefix(line, "FALDONE_STATE_URL="); ok {
			stateURL = subst(v)
		}
	}
	if !strings.Contains(stateURL, password) || !strings.Contains(stateURL, "sslmode=require") {
		t.Fatalf("the environment file's FALDONE_STATE_URL %q: want the password and sslmode=require", stateURL)
	}
	g := harness.StartServe(t, "", "FALDONE_STATE_URL="+stateURL, "FALDONE_SECRET_FILE="+keyFile)
	if code, body, _ := g.Status(http.MethodGet, "/readyz", nil, ""); code != http.StatusOK {
		t.Errorf("/readyz: %d %s\n%s", code, body, g.Log())
	}
	// The migrations made the tables as the role, in its database.
	own, err := pgx.Connect(ctx, stateURL)
	if err != nil {
		t.Fatalf("connect with the documented URL: %v", err)
	}
	var tables int
	err = own.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1`, name).Scan(&tables)
	own.Close(ctx)
	if err != nil || tables == 0 {
		t.Errorf("tables of %s in its database: %d (%v), want the state store's", name, tables, err)
	}
	if strings.Contains(g.Log(), password) {
		t.Error("the gateway's log shows the database password")
	}

	verifyFull := strings.Replace(stateURL, "sslmode=require", "sslmode=verify-full", 1)
	cmd := exec.Command(harness.Binary(t), "migrate", "--data", t.TempDir())
	cmd.Env = append(os.Environ(), "FALDONE_STATE_URL="+verifyFull, "FALDONE_SECRET_FILE="+keyFile)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "certificate") {
		t.Errorf("verify-full against the stock certificate: %v, want a certificate error\n%s", err, out)
	}
	if strings.Contains(string(out), password) {
		t.Errorf("the error shows the database password:\n%s", out)
	}
}
