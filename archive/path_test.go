package archive

import (
	"strings"
	"testing"
)

// TestPath: paths typed, pasted or decoded become namespace paths, or
// are refused.
func TestPath(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "", want: "/"},
		{in: "/", want: "/"},
		{in: "/guastalla/2019/PC-2019-0042", want: "/guastalla/2019/PC-2019-0042"},
		{in: "guastalla/2019/PC-2019-0042/", want: "/guastalla/2019/PC-2019-0042"},
		{in: "/guastalla/Pratica Universita\u0300", want: "/guastalla/Pratica Universit\u00e0"}, // NFD from Finder
		{in: "/guastalla/Pratica Universit\u00e0", want: "/guastalla/Pratica Universit\u00e0"},
		{in: "/a/tavola%2003", want: "/a/tavola%2003"}, // typed, not escaped
		{in: "/a/../b", bad: true},
		{in: "/a/./b", bad: true},
		{in: "/a//b", bad: true},
		{in: `/a\b`, bad: true},
		{in: "/a\x00b", bad: true},
		{in: "/a\nb", bad: true},
		{in: "/a/\xff", bad: true},
		{in: "/a\x1fb", bad: true},
		{in: "/a\x7fb", bad: true}, // DEL
		{in: "/a/" + strings.Repeat("n", 256), bad: true},
		{in: "/a/" + strings.Repeat("n", 255), want: "/a/" + strings.Repeat("n", 255)},
		{in: "/a/" + strings.Repeat("\u00e8", 127), want: "/a/" + strings.Repeat("\u00e8", 127)},
		{in: "/a/" + strings.Repeat("\u00e8", 128), bad: true},                                    // 256 bytes
		{in: "/a/" + strings.Repeat("e\u0300", 127), want: "/a/" + strings.Repeat("\u00e8", 127)}, // counted composed
		{in: strings.Repeat("/d", 600), bad: true},
		// 1024 bytes without the leading slash, as a backend takes the path; then 1025.
		{in: strings.Repeat("/"+strings.Repeat("n", 254), 4) + "/nnnn", want: strings.Repeat("/"+strings.Repeat("n", 254), 4) + "/nnnn"},
		{in: strings.Repeat("/"+strings.Repeat("n", 254), 4) + "/nnnnn", bad: true},
		// What Windows cannot show is stored as it is.
		{in: `/a/<>:"|?*`, want: `/a/<>:"|?*`},
		{in: "/a/relazione.", want: "/a/relazione."},
		{in: "/a/relazione ", want: "/a/relazione "},
	}
	for _, tt := range tests {
		got, err := Path(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("Path(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Path(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestShowableOnWindows(t *testing.T) {
	for name, want := range map[string]bool{
		"domanda.pdf": true, "PC-2019-0042": true, "perché è già così.dwg": true, "console.txt": true,
		"CONTO.pdf": true, "com10.txt": true, ".DS_Store": true,
		"a<b": false, "a:b": false, `a"b`: false, "a|b": false, "a?b": false, "a*b": false, "a>b": false,
		"relazione.": false, "relazione ": false,
		"CON": false, "con.txt": false, "Nul.tar.gz": false, "COM1": false, "lpt9.pdf": false, "AUX ": false,
	} {
		if got := ShowableOnWindows(name); got != want {
			t.Errorf("ShowableOnWindows(%q) = %v, want %v", name, got, want)
		}
	}
}
