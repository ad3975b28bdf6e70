package web

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestDrivePaths(t *testing.T) {
	const p = "/guastalla/2019/PC-2019-0042/tavola 03.dwg"
	for _, c := range []struct {
		name, host string
		https      bool
		unc        string
	}{
		{"https", "archivio.bassareggiana.it", true, `\\archivio.bassareggiana.it@SSL\DavWWWRoot\guastalla\2019\PC-2019-0042\tavola 03.dwg`},
		{"https on its own port", "archivio.bassareggiana.it:443", true, `\\archivio.bassareggiana.it@SSL\DavWWWRoot\guastalla\2019\PC-2019-0042\tavola 03.dwg`},
		{"https on another port", "archivio.bassareggiana.it:8443", true, `\\archivio.bassareggiana.it@SSL@8443\DavWWWRoot\guastalla\2019\PC-2019-0042\tavola 03.dwg`},
		{"http", "192.168.1.10", false, `\\192.168.1.10\DavWWWRoot\guastalla\2019\PC-2019-0042\tavola 03.dwg`},
		{"http on another port", "192.168.1.10:8080", false, `\\192.168.1.10@8080\DavWWWRoot\guastalla\2019\PC-2019-0042\tavola 03.dwg`},
		{"IPv6: no UNC path", "[::1]:8080", false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/_/scheda/x", nil)
			r.Host = c.host
			if c.https {
				r.TLS = &tls.ConnectionState{}
			}
			d := drivePathsOf(r, p)
			if d.UNC != c.unc || d.Letter != `Z:\guastalla\2019\PC-2019-0042\tavola 03.dwg` || d.Mount != p {
				t.Errorf("%+v, want UNC %q", d, c.unc)
			}
		})
	}
}

func TestETagMatches(t *testing.T) {
	const tag = `"disegno-1-abc"`
	for _, c := range []struct {
		header string
		want   bool
	}{
		{tag, true},
		{`W/` + tag, true},
		{`"x", ` + tag, true},
		{`*`, true},
		{`"disegno-1-abd"`, false},
		{``, false},
	} {
		if got := etagMatches(c.header, tag); got != c.want {
			t.Errorf("etagMatches(%q) = %v", c.header, got)
		}
	}
	if got := etagToken("a\"b c\x7fd"); got != "abcd" {
		t.Errorf("etagToken: %q", got)
	}
}
