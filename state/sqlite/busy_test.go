package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// TestBusyIsUnavailable: a write that cannot get the database because
// another process holds its write lock past the busy timeout fails with
// state.ErrUnavailable (the gateway answers 503), and succeeds once the
// lock is released.
func TestBusyIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faldone.db")
	s, err := openWaiting(t.Context(), path, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := sql.Open("sqlite", dsn(path, nil)) // as another process would
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	rec := []state.AuditRecord{{Time: time.Now(), Path: "/guastalla", Status: 200}}
	if err := s.AppendAudit(t.Context(), rec); !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("write while another process holds the lock: %v, want ErrUnavailable", err)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(t.Context(), rec); err != nil {
		t.Errorf("write after the lock was released: %v", err)
	}
}
