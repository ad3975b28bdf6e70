package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

var litmusSummary = regexp.MustCompile("<- summary for `(\\w+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed")

// TestLitmus runs every group of the litmus WebDAV suite against the real
// binary and accepts nothing less than every test run and passed, with no
// warning and nothing skipped.
func TestLitmus(t *testing.T) {
	litmus, err := exec.LookPath("litmus")
	if err != nil {
		t.Fatal("litmus is not installed: the test command installs it (apt-get install litmus)")
	}
	g := harness.StartDemo(t, "")
	runLitmus(t, litmus, g.URL+"/guastalla/", g.User, g.Pass, func() string { return g.Log() })
}

func runLitmus(t *testing.T, litmus, url, user, pass string, serverLog func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, litmus, "-k", url, user, pass)
	cmd.Env = append(os.Environ(), "TESTS=basic copymove props locks http")
	cmd.Dir = t.TempDir() // litmus writes debug.log into its working folder
	out, err := cmd.CombinedOutput()
	text := string(out)
	groups := map[string]bool{}
	for _, m := range litmusSummary.FindAllStringSubmatch(text, -1) {
		groups[m[1]] = true
		if m[2] != m[3] || m[4] != "0" {
			t.Errorf("litmus group %s: %s of %s passed, %s failed", m[1], m[3], m[2], m[4])
		}
	}
	for _, g := range []string{"basic", "copymove", "props", "locks", "http"} {
		if !groups[g] {
			t.Errorf("litmus group %s did not run to its summary", g)
		}
	}
	for _, word := range []string{"WARNING", "SKIPPED", "FAIL"} {
		if strings.Contains(text, word) {
			t.Errorf("litmus output contains %s", word)
		}
	}
	if err != nil {
		t.Errorf("litmus exited with %v", err)
	}
	if t.Failed() {
		dbg, _ := os.ReadFile(filepath.Join(cmd.Dir, "debug.log"))
		if len(dbg) > 60000 {
			dbg = dbg[len(dbg)-60000:]
		}
		t.Logf("litmus output:\n%s\n--- litmus debug.log (tail):\n%s\n--- server log:\n%s", text, dbg, tail(serverLog(), 40000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
