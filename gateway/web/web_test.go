package web

import (
	"strings"
	"testing"
)

func TestSizeText(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0 byte"}, {999, "999 byte"}, {1000, "1,0 kB"}, {1536, "1,5 kB"},
		{123_456_789, "123 MB"}, {1 << 30, "1,1 GB"}, {5_000_000_000_000_000, "5000 TB"},
	} {
		if got := sizeText(tt.n); got != tt.want {
			t.Errorf("sizeText(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestRelativePath(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"pianta.dwg", true}, {"Tavole/dettagli/nodo.dxf", true}, {"Perizia à.pdf", true},
		{"", false}, {"../fuori.pdf", false}, {"a/../b", false}, {"a//b", false}, {"a/./b", false},
		{"/assoluto.pdf", false}, {"a\\b.pdf", false}, {"a\x00b", false}, {"\xff.pdf", false},
	} {
		if _, ok := relativePath(tt.in); ok != tt.ok {
			t.Errorf("relativePath(%q) ok = %v, want %v", tt.in, ok, tt.ok)
		}
	}
}

func TestOwnerText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"geom. Rossi", "geom. Rossi"},
		{`<D:href xmlns:D="DAV:">mailto:rossi@studio.it</D:href>`, "rossi@studio.it"},
		{"<a><b>Mario</b>\n  <c>Rossi</c></a>", "Mario Rossi"},
	} {
		if got := ownerText(tt.in); got != tt.want {
			t.Errorf("ownerText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAfterSignIn(t *testing.T) {
	for _, tt := range []struct{ dopo, want string }{
		{"/_/archivio/guastalla/2019/PC-2019-0042/", "/_/archivio/guastalla/2019/PC-2019-0042/"},
		{"/_/archivio/guastalla/?ordina=data&pagina=2", "/_/archivio/guastalla/?ordina=data&pagina=2"},
		{"/guastalla/2019/", "/guastalla/2019/"},
		{"", "/_/profilo"},
		{"/", "/_/profilo"},
		{"//evil.example/x", "/_/profilo"},
		{"https://evil.example/", "/_/profilo"},
		{"http:/evil.example", "/_/profilo"},
		{"/\\evil.example", "/_/profilo"},
		{"\\\\evil.example", "/_/profilo"},
		{"/\t/evil.example", "/_/profilo"},
		{"/\r\nSet-Cookie: x=y", "/_/profilo"},
		{"javascript:alert(1)", "/_/profilo"},
		{"archivio/", "/_/profilo"},
		{"/_/accedi?dopo=/x", "/_/profilo"},
		{"/_/accedi/ritorno?code=x", "/_/profilo"},
		{"/_/esci", "/_/profilo"},
		{"/" + strings.Repeat("a", 5000), "/_/profilo"},
	} {
		if got := afterSignIn(tt.dopo); got != tt.want {
			t.Errorf("afterSignIn(%q) = %q, want %q", tt.dopo, got, tt.want)
		}
	}
}
