package access

import "testing"

func TestSplitComune(t *testing.T) {
	for _, tt := range []struct{ in, comune, rest string }{
		{"/", "", ""},
		{"", "", ""},
		{"/guastalla", "guastalla", ""},
		{"/guastalla/", "guastalla", ""},
		{"/guastalla/2019", "guastalla", "2019"},
		{"/guastalla/2019/PC-2019-0042/tavola.dwg", "guastalla", "2019/PC-2019-0042/tavola.dwg"},
		{"guastalla/2019", "guastalla", "2019"}, // a backend path, without the leading slash
		{"/_/archivio", "_", "archivio"},
	} {
		c, r := SplitComune(tt.in)
		if c != tt.comune || r != tt.rest {
			t.Errorf("SplitComune(%q) = %q, %q; want %q, %q", tt.in, c, r, tt.comune, tt.rest)
		}
	}
}
