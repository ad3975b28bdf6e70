package integration

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/tests/harness"
)

func faldone(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(harness.Binary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestUserCommands: accounts made with `faldone user` work at once on the
// running server; a changed password or a removed account stops working at
// the next request.
func TestUserCommands(t *testing.T) {
	g := harness.StartDemo(t, "")
	if out, err := faldone(t, "servizio-scansioni-1\n", "user", "add", "scansioni", "--data", g.DataDir); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := faldone(t, "", "user", "list", "--data", g.DataDir); err != nil || !strings.Contains(out, "scansioni") {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	if out, err := faldone(t, "corta\n", "user", "add", "altro", "--data", g.DataDir); err == nil {
		t.Errorf("a short password was accepted:\n%s", out)
	}
	svc := g.As("scansioni", "servizio-scansioni-1")
	status := func() int {
		code, _, _ := svc.Status("PROPFIND", "/", map[string]string{"Depth": "0"}, "")
		return code
	}
	if code := status(); code != 207 {
		t.Fatalf("new account: %d, want 207", code)
	}
	if out, err := faldone(t, "servizio-scansioni-2\n", "user", "passwd", "scansioni", "--data", g.DataDir); err != nil {
		t.Fatalf("user passwd: %v\n%s", err, out)
	}
	if code := status(); code != 401 {
		t.Errorf("old password after passwd: %d, want 401", code)
	}
	svc = g.As("scansioni", "servizio-scansioni-2")
	if code := status(); code != 207 {
		t.Errorf("new password: %d, want 207", code)
	}
	if out, err := faldone(t, "", "user", "remove", "scansioni", "--data", g.DataDir); err != nil {
		t.Fatalf("user remove: %v\n%s", err, out)
	}
	if code := status(); code != 401 {
		t.Errorf("removed account: %d, want 401", code)
	}
	if strings.Contains(g.Log(), "servizio-scansioni") {
		t.Errorf("a password is in the log")
	}
}
