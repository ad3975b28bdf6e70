package gateway

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/bassareggiana/faldone/gateway/config"
)

// The data directory holds the state database (sessions, CSRF tokens,
// app-password hashes), the server key and the audit log: only the account
// the server runs as may read them.
const (
	privateDir  fs.FileMode = 0o700
	privateFile fs.FileMode = 0o600
)

// prepareDataDir makes the data directory, private, whatever the state
// store, and makes private again the state files a start finds open to
// other users (an older version, a copy, a restore): each such file is
// logged. A file in the data directory that cannot be made private stops
// the start; the key or audit file configured elsewhere (a read-only
// mounted secret, say) is the operator's, and only warned about.
func prepareDataDir(cfg config.Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, privateDir); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := makePrivate(cfg.DataDir, privateDir, log); err != nil {
		return err
	}
	// The audit spool holds the access log until the state store has it.
	if err := makePrivate(filepath.Join(cfg.DataDir, auditSpool), privateDir, log); err != nil {
		return err
	}
	var files []string
	if cfg.StateURL == "" {
		// SQLite gives its -wal, -shm and -journal files the mode of the
		// database file: a private database keeps them private.
		db := filepath.Join(cfg.DataDir, sqliteFile)
		files = append(files, db, db+"-wal", db+"-shm", db+"-journal")
	}
	files = append(files, cfg.SecretFile)
	if f := *cfg.Audit.File; f != "" && f != "-" {
		files = append(files, f)
	}
	for _, f := range files {
		err := makePrivate(f, privateFile, log)
		if err == nil {
			continue
		}
		if rel, rerr := filepath.Rel(cfg.DataDir, f); rerr == nil && filepath.IsLocal(rel) {
			return err
		}
		log.Warn("state file outside the data directory open to other users", "err", err)
	}
	return nil
}

// makePrivate takes from path every permission beyond want.
func makePrivate(path string, want fs.FileMode, log *slog.Logger) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state files: %w", err)
	}
	have := fi.Mode().Perm()
	if have&^want == 0 {
		return nil
	}
	if err := os.Chmod(path, have&want); err != nil {
		return fmt.Errorf("%s is open to other users (mode %04o) and cannot be made private: %w", path, have, err)
	}
	log.Warn("state file was open to other users: made private", "path", path, "was", fmt.Sprintf("%04o", have), "now", fmt.Sprintf("%04o", have&want))
	return nil
}
