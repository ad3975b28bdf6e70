package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// waitFile waits for a file the server writes in the background.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not written", path)
		}
	}
}

// TestDataDirMade: the data directory is made at start whatever the state
// store, as the audit log and the server key live there too; with every
// Comune on S3 and the state on PostgreSQL nothing else makes it.
func TestDataDirMade(t *testing.T) {
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	for _, tc := range []struct {
		name string
		yaml func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return fmt.Sprintf("state_url: %q\n", postgresDB(t)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "nuova", "dati")
			g := harness.StartServeIn(t, dir, s3Yaml(srv, tc.yaml(t)))
			mustStatus(t, g, "PUT", "/guastalla/pratica-"+tc.name+".pdf", nil, "contenuto", http.StatusCreated)
			for _, f := range []string{"audit.jsonl", "faldone.key"} {
				waitFile(t, filepath.Join(dir, f))
			}
		})
	}
}

// TestStateFilesPrivate: the data directory and every state file in it are
// the server account's only; a start finds them open to others and makes
// them private again, saying so.
func TestStateFilesPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dati")
	g := harness.StartServeIn(t, dir, "")
	mustStatus(t, g, "PUT", "/guastalla/pratica.pdf", nil, "contenuto", http.StatusCreated)
	waitFile(t, filepath.Join(dir, "audit.jsonl"))
	want := map[string]os.FileMode{
		"":               0o700,
		"faldone.db":     0o600,
		"faldone.db-wal": 0o600,
		"faldone.db-shm": 0o600,
		"faldone.key":    0o600,
		"audit.jsonl":    0o600,
	}
	check := func(stage string) {
		t.Helper()
		for name, mode := range want {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("%s: %v", stage, err)
			}
			if got := fi.Mode().Perm(); got != mode {
				t.Errorf("%s: %s has mode %04o, want %04o", stage, "data_dir/"+name, got, mode)
			}
		}
	}
	check("first start")

	g.Stop()
	for name, mode := range want {
		if err := os.Chmod(filepath.Join(dir, name), mode|0o055); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	g.Restart()
	mustStatus(t, g, "PUT", "/guastalla/pratica.pdf", nil, "contenuto nuovo", http.StatusNoContent)
	check("restart over open files")
	for _, name := range []string{"faldone.db", "faldone.key", "audit.jsonl"} {
		if !strings.Contains(g.Log(), "path="+filepath.Join(dir, name)+" was=0655") {
			t.Errorf("no warning about %s in the log", name)
		}
	}
}
