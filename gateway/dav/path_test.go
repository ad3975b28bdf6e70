package dav

import (
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/archive"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		trailing bool
		bad      bool
	}{
		{in: "/", want: "/", trailing: true},
		{in: "/guastalla", want: "/guastalla"},
		{in: "/guastalla/2019/", want: "/guastalla/2019", trailing: true},
		{in: "/a/tavola%2003.dwg", want: "/a/tavola 03.dwg"},
		{in: "/a/%C3%A8", want: "/a/è"},
		{in: "/a/e%CC%80", want: "/a/è"}, // NFD from macOS
		{in: "/citt%C3%A0/relazione%20s%CC%8Cpeciale", want: "/città/relazione špeciale"},
		{in: "/a/b:c", want: "/a/b:c"},
		// What Windows cannot show is stored as it is.
		{in: "/a/%3C%3E:%22%7C%3F*", want: `/a/<>:"|?*`},
		{in: "/a/relazione.", want: "/a/relazione."},
		{in: "/a/relazione%20", want: "/a/relazione "},
		{in: "", bad: true},
		{in: "a", bad: true},
		{in: "/a/../b", bad: true},
		{in: "/a/%2e%2e/b", bad: true},
		{in: "/a/%2E%2E", bad: true},
		{in: "/a/./b", bad: true},
		{in: "/a/%2e/b", bad: true},
		{in: "/a%2fb", bad: true},
		{in: "/a%2Fb", bad: true},
		{in: "/a%5cb", bad: true},
		{in: `/a\b`, bad: true},
		{in: "/a%00b", bad: true},
		{in: "/a//b", bad: true},
		{in: "//a", bad: true},
		{in: "/a%zz", bad: true},
		{in: "/a%0a", bad: true},
		{in: "/a%1f", bad: true},
		{in: "/a%7f", bad: true}, // DEL
		{in: "/a%ff", bad: true}, // not UTF-8
		// Names up to 255 bytes, paths up to 1024, as every backend takes.
		{in: "/a/" + strings.Repeat("n", 255), want: "/a/" + strings.Repeat("n", 255)},
		{in: "/a/" + strings.Repeat("n", 256), bad: true},
		{in: "/a/" + strings.Repeat("%C3%A8", 127), want: "/a/" + strings.Repeat("è", 127)},
		{in: "/a/" + strings.Repeat("%C3%A8", 128), bad: true},                               // 128 letters, 256 bytes
		{in: "/a/" + strings.Repeat("e%CC%80", 127), want: "/a/" + strings.Repeat("è", 127)}, // counted composed
		// Four names of 254 bytes and one of 4: 1024 bytes without the
		// leading slash, as a backend takes the path.
		{in: strings.Repeat("/"+strings.Repeat("n", 254), 4) + "/nnnn", want: strings.Repeat("/"+strings.Repeat("n", 254), 4) + "/nnnn"},
		{in: strings.Repeat("/"+strings.Repeat("n", 254), 4) + "/nnnnn", bad: true}, // 1025 bytes
	}
	for _, tt := range tests {
		got, trailing, err := cleanPath(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("cleanPath(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want || trailing != tt.trailing {
			t.Errorf("cleanPath(%q) = %q, %v, %v; want %q, %v", tt.in, got, trailing, err, tt.want, tt.trailing)
		}
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/a/%2e%2e", "/a%2fb", "/a//b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, _, err := cleanPath(s)
		if err != nil {
			return
		}
		if p[0] != '/' || (p != "/" && p[len(p)-1] == '/') {
			t.Fatalf("cleanPath(%q) = %q: not absolute or has trailing slash", s, p)
		}
		if p == "/" {
			return
		}
		for _, seg := range splitSegments(p) {
			if !archive.ValidName(seg) {
				t.Fatalf("cleanPath(%q) = %q: invalid segment %q", s, p, seg)
			}
		}
		// Escaping and cleaning again must give the same path.
		q, _, err := cleanPath(escapePath(p))
		if err != nil || q != p {
			t.Fatalf("round trip of %q: %q, %v", p, q, err)
		}
	})
}

func splitSegments(p string) []string {
	var out []string
	start := 1
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}
