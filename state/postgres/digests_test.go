package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestDigestPlans checks that the digest queries can be answered from the
// primary key: the "C" collation of the column and of its index must agree
// with the queries'. Sequential scans are disabled, as in TestPlans. Whether
// a tree's range is read in the index's order or sorted is the planner's
// choice by the range's size, which tables this small do not show.
func TestDigestPlans(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newDB(t).openClosed(t)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), `RESET enable_seqscan`)
	lo, hi := below("/a/b")
	tests := []struct {
		name  string
		query string
		args  []any
	}{
		{"a tree, in order", treeDigestsQuery, []any{lo, hi}},
		{"a page", digestsOfQuery, []any{[]string{"/a", "/a/b"}}},
		{"the deletion of a tree", deleteDigestTree, []any{"/a/b", lo, hi}},
	}
	for _, tt := range tests {
		rows, err := conn.Query(ctx, `EXPLAIN `+tt.query, tt.args...)
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", tt.name, err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", tt.name, err)
		}
		if got := strings.Join(plan, "\n"); !strings.Contains(got, "digests_pkey") || strings.Contains(got, "Seq Scan") {
			t.Errorf("plan of %s:\n%s\nwant a scan of digests_pkey", tt.name, got)
		}
	}
}
