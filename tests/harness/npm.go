package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// npmInstalls remembers, per folder, the one `npm ci` of this process.
var npmInstalls sync.Map // folder → func() error (sync.OnceValue)

// NpmCI installs the npm packages of a folder of the tests (`npm ci`), once
// per process, and only when node_modules was not installed from the
// current package-lock.json: a stamp in node_modules holds the lock file's
// hash. A file lock keeps the test binaries of several packages from
// installing at the same time.
func NpmCI(dir string) error {
	f, _ := npmInstalls.LoadOrStore(dir, sync.OnceValue(func() error { return npmInstall(dir) }))
	return f.(func() error)()
}

func npmInstall(dir string) error {
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("npm: %w", err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(dir, "node_modules", ".faldone-lock-sha256")
	installed := func() bool {
		b, err := os.ReadFile(stamp)
		return err == nil && strings.TrimSpace(string(b)) == want
	}
	if installed() {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, ".npm-ci.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("npm: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("npm: lock: %w", err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if installed() { // another process did it meanwhile
		return nil
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefer-offline")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
	}
	return os.WriteFile(stamp, []byte(want+"\n"), 0o644)
}
