package main

import (
	"slices"
	"testing"
)

func TestSpreadsheetCells(t *testing.T) {
	tests := []struct{ in, want string }{
		{`=HYPERLINK("http://evil.example/","apri")`, `'=HYPERLINK("http://evil.example/","apri")`},
		{"+1", "'+1"}, {"-1+2", "'-1+2"}, {"@SUM(A1)", "'@SUM(A1)"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
		{"/guastalla/2019/PC-2019-0042", "/guastalla/2019/PC-2019-0042"}, {"207", "207"}, {"", ""},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := spreadsheetCells([]string{tt.in}); !slices.Equal(got, []string{tt.want}) {
			t.Errorf("spreadsheetCells(%q) = %q, want %q", tt.in, got[0], tt.want)
		}
	}
}
