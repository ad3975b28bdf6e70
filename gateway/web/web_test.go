package web

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends/local"
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

func TestThousandsText(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1.000"}, {50_000, "50.000"}, {1_234_567, "1.234.567"}, {-1000, "-1.000"}} {
		if got := thousandsText(tt.n); got != tt.want {
			t.Errorf("thousandsText(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// allowAll lets the person see everything but what hidden names.
type allowAll struct{ hidden string }

func (a allowAll) Decide(_ access.Action, p string) access.Verdict {
	if a.hidden != "" && strings.HasPrefix(p, a.hidden) {
		return access.Hide
	}
	return access.Allow
}

func TestSearch(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{
		"guastalla/2019/PC-2019-0042/domanda.pdf",
		"guastalla/2019/PC-2019-0043/domanda.pdf",
		"guastalla/2020/SCIA-2020-0042.pdf",
		"luzzara/2019/PC-2019-0042-variante/tavola.dwg",
	} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	fs, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, folder, needle, hidden string
		limit                        int
		want                         []string
		complete                     bool
	}{
		{"a dossier by number, from its Comune", "/guastalla", "pc-2019-0042", "", 0, []string{"2019/PC-2019-0042"}, true},
		{"every Comune, from the root", "/", "0042", "", 0, []string{"guastalla/2019/PC-2019-0042", "guastalla/2020/SCIA-2020-0042.pdf", "luzzara/2019/PC-2019-0042-variante"}, true},
		{"what the person may not see is not found", "/", "0042", "/luzzara", 0, []string{"guastalla/2019/PC-2019-0042", "guastalla/2020/SCIA-2020-0042.pdf"}, true},
		{"files too", "/guastalla/2019", "domanda", "", 0, []string{"PC-2019-0042/domanda.pdf", "PC-2019-0043/domanda.pdf"}, true},
		{"a Comune by name", "/", "luzz", "", 0, []string{"luzzara"}, true},
		{"stopped at the limit, after the page that reached it", "/guastalla", "0043", "", 2, []string{"2019/PC-2019-0043"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{cfg: Config{SearchLimit: tt.limit, Location: time.UTC}}
			op := archive.New(fs, nil, archive.Options{}).Begin(context.Background(), archive.Caller{Policy: allowAll{tt.hidden}})
			found, complete, err := h.search(op, tt.folder, tt.needle)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range found {
				names = append(names, e.Name)
			}
			slices.Sort(names)
			if !slices.Equal(names, tt.want) || complete != tt.complete {
				t.Errorf("found %q (complete %v), want %q (complete %v)", names, complete, tt.want, tt.complete)
			}
		})
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
