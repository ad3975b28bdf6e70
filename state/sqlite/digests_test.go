package sqlite

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDigestPlans checks that the digest queries are answered from the
// primary key, and that a tree's range comes in its order, without a sort
// of the whole tree before the first row.
func TestDigestPlans(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	lo, hi := below("/a/b")
	tests := []struct {
		name  string
		query string
		args  []any
		want  string
	}{
		{"a tree, in order", treeDigestsQuery, []any{lo, hi}, "SEARCH digests USING PRIMARY KEY (path>? AND path<?)"},
		{"a page", `SELECT ` + digestColumns + ` FROM digests WHERE path IN (?, ?, ?, ?)`,
			[]any{"/a", "/b", "/c", "/c"}, "SEARCH digests USING PRIMARY KEY (path=?)"},
		{"the deletion of a tree", `DELETE FROM digests WHERE path = ? OR (path > ? AND path < ?)`,
			[]any{"/a/b", lo, hi}, "SEARCH digests USING PRIMARY KEY (path>? AND path<?)"},
	}
	for _, tt := range tests {
		plan := queryPlan(t, s, tt.query, tt.args...)
		sorts := slices.ContainsFunc(plan, func(d string) bool { return strings.Contains(d, "TEMP B-TREE") })
		if !slices.Contains(plan, tt.want) || sorts {
			t.Errorf("query plan of %s:\n%s\n= %q, want %q without a sort", tt.name, tt.query, plan, tt.want)
		}
	}
}

// TestDigestsOfTexts: pages of every length share a few prepared texts,
// rather than filling the cache of reads with one each.
func TestDigestsOfTexts(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	var paths []string
	for i := range 1000 {
		paths = append(paths, fmt.Sprintf("/a/%03d", i))
		if _, err := s.DigestsOf(t.Context(), paths); err != nil {
			t.Fatalf("DigestsOf(%d paths): %v", len(paths), err)
		}
	}
	n := 0
	for q := range s.rd.stmts {
		if strings.Contains(q, "FROM digests") {
			n++
		}
	}
	if n != 11 { // 1, 2, 4, … 1024
		t.Errorf("%d texts prepared for pages of 1 to 1000 paths, want 11", n)
	}
}
