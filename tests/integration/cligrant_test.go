package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestCLIGrantsAudited: a grant made and revoked from the command line,
// while the server runs, is in both sinks of the access log — the state
// store (faldone audit) and the JSON lines (audit.jsonl) — as the page's
// are; the rules are the page's (a reason over 200 characters, a day past
// two years are refused).
func TestCLIGrantsAudited(t *testing.T) {
	const dossier = "/guastalla/2019/PC-2019-0042"
	g := harness.StartDemo(t, "")
	until := time.Now().AddDate(0, 2, 0).Format("2006-01-02")
	for _, bad := range [][]string{
		{"--reason", strings.Repeat("x", 201), "--until", until},
		{"--reason", "prot. 1", "--until", time.Now().AddDate(3, 0, 0).Format("2006-01-02")},
	} {
		args := append([]string{"grant", "add", "--person", "RSSMRA80A01H501U", "--path", dossier, "--data", g.DataDir}, bad...)
		if out, err := faldone(t, "", args...); err == nil {
			t.Errorf("grant add %v succeeded:\n%s", bad, out)
		}
	}
	out, err := faldone(t, "", "grant", "add", "--person", "RSSMRA80A01H501U", "--path", dossier, "--until", until,
		"--reason", "prot. 42/2026", "--by", "ufficio", "--data", g.DataDir)
	if err != nil {
		t.Fatalf("grant add: %v\n%s", err, out)
	}
	id := regexp.MustCompile(`grant (g-[0-9a-f]+)`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no grant id in %q", out)
	}
	if out, err := faldone(t, "", "grant", "revoke", id[1], "--by", "ufficio", "--data", g.DataDir); err != nil {
		t.Fatalf("grant revoke: %v\n%s", err, out)
	}
	lines, err := os.ReadFile(filepath.Join(g.DataDir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	csv, err := faldone(t, "", "audit", "--csv", "--data", g.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"GRANT", "REVOKE"} {
		if !regexp.MustCompile(`"person":"ufficio","credential":"cli","client":"cli","method":"` + method + `","path":"` + dossier + `"`).Match(lines) {
			t.Errorf("audit.jsonl has no %s by the command line:\n%s", method, lines)
		}
		if !strings.Contains(csv, "ufficio,cli,cli,"+method+","+dossier) {
			t.Errorf("faldone audit has no %s by the command line:\n%s", method, csv)
		}
	}
}
