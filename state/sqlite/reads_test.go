package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestReadsPrepareOnce checks that a text is prepared once, that texts past
// the bound still run (unprepared), and that a bad text fails where the
// database's own errors do.
func TestReadsPrepareOnce(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	ctx := t.Context()
	refusesBad := func(when string) {
		t.Helper()
		if err := s.rd.QueryRowContext(ctx, "SELECT FROM nowhere").Scan(new(int)); err == nil {
			t.Errorf("%s: a bad query scanned without an error", when)
		}
		if _, err := s.rd.QueryContext(ctx, "SELECT FROM nowhere"); err == nil {
			t.Errorf("%s: a bad query ran without an error", when)
		}
	}
	refusesBad("the cache empty")
	for i := range maxPrepared + 5 {
		q := fmt.Sprintf("SELECT %d", i)
		for range 2 {
			var n int
			if err := s.rd.QueryRowContext(ctx, q).Scan(&n); err != nil || n != i {
				t.Fatalf("%s: got %d, %v", q, n, err)
			}
			rows, err := s.rd.QueryContext(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if !rows.Next() || rows.Scan(&n) != nil || n != i {
				t.Fatalf("%s: rows gave %d", q, n)
			}
			rows.Close()
		}
	}
	if got := len(s.rd.stmts); got != maxPrepared {
		t.Errorf("%d statements kept, want the bound %d", got, maxPrepared)
	}
	refusesBad("the cache full")
}
