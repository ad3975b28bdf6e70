package docs

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestPageAssetsAsPinned: the pages' third-party assets committed under
// gateway/web/static/bi are what gateway/web/assets/update.sh brings from
// npm at the versions its lock file pins, file for file.
func TestPageAssetsAsPinned(t *testing.T) {
	root := harness.Root()
	out := filepath.Join(t.TempDir(), "bi")
	cmd := exec.Command("bash", filepath.Join(root, "gateway", "web", "assets", "update.sh"), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("update.sh: %v\n%s", err, b)
	}
	committed := filepath.Join(root, "gateway", "web", "static", "bi")
	seen := map[string]bool{}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		seen[rel] = true
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(committed, rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: committed differs from npm's (%v); run go generate ./gateway/web", rel, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(committed, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if rel, _ := filepath.Rel(committed, p); !seen[rel] {
				t.Errorf("%s: committed, but not from npm", rel)
			}
		}
		return err
	})
	if len(seen) < 10 {
		t.Errorf("update.sh made only %d files", len(seen))
	}
}
