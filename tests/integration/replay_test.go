package integration

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/tests/harness"
)

// step is one request of a client's recorded sequence. Headers and paths
// may name lock tokens saved by earlier steps as {NAME}.
type step struct {
	method, path string
	header       map[string]string
	body         string
	want         int
	saveToken    string // a name for the Lock-Token; "etag:NAME" saves the ETag
}

const (
	lockExclusive = `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><href>WORKSTATION\rossi</href></D:owner></D:lockinfo>`
	win32Props    = `<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>` +
		`<Z:Win32CreationTime>Wed, 25 Nov 2026 10:00:00 GMT</Z:Win32CreationTime><Z:Win32LastAccessTime>Wed, 25 Nov 2026 10:00:00 GMT</Z:Win32LastAccessTime>` +
		`<Z:Win32LastModifiedTime>Wed, 25 Nov 2026 10:00:00 GMT</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>`
	lockdiscoveryBody = `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>`
)

func runSteps(t *testing.T, g *harness.Gateway, steps []step) {
	t.Helper()
	tokens := map[string]string{}
	expand := func(s string) string {
		for k, v := range tokens {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	for i, s := range steps {
		h := map[string]string{}
		for k, v := range s.header {
			h[k] = expand(v)
		}
		code, body, rh := g.Status(s.method, s.path, h, s.body)
		if code != s.want {
			t.Fatalf("step %d: %s %s = %d, want %d\n%s", i+1, s.method, s.path, code, s.want, body)
		}
		if name, ok := strings.CutPrefix(s.saveToken, "etag:"); ok {
			if tokens[name] = rh.Get("ETag"); tokens[name] == "" {
				t.Fatalf("step %d: no ETag", i+1)
			}
		} else if s.saveToken != "" {
			tok := strings.Trim(rh.Get("Lock-Token"), "<>")
			if tok == "" {
				t.Fatalf("step %d: no Lock-Token", i+1)
			}
			tokens[s.saveToken] = tok
		}
	}
}

// assertContent checks a file's content through the gateway.
func assertContent(t *testing.T, g *harness.Gateway, path, want string) {
	t.Helper()
	code, got, _ := g.Status("GET", path, nil, "")
	if code != http.StatusOK || got != want {
		t.Errorf("GET %s = %d %q, want %q", path, code, got, want)
	}
}

// assertDigest checks that a file written through the gateway, by whatever
// sequence of uploads, copies and moves, has the SHA-256 of content in
// Repr-Digest, on GET and on HEAD.
func assertDigest(t *testing.T, g *harness.Gateway, path, content string) {
	t.Helper()
	sum := sha256.Sum256([]byte(content))
	want := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	for _, method := range []string{"GET", "HEAD"} {
		code, _, h := g.Status(method, path, nil, "")
		if got := h.Get("Repr-Digest"); code != http.StatusOK || got != want {
			t.Errorf("%s %s = %d with Repr-Digest %q, want %q", method, path, code, got, want)
		}
	}
}

// assertNoLocks checks that no lock is left in a folder.
func assertNoLocks(t *testing.T, g *harness.Gateway, dir string) {
	t.Helper()
	code, body, _ := g.Status("PROPFIND", dir, map[string]string{"Depth": "1"}, lockdiscoveryBody)
	if code != 207 || strings.Contains(body, "activelock") {
		t.Errorf("stray lock in %s (status %d):\n%s", dir, code, body)
	}
}

// TestDestinationBehindProxy: a proxy that rewrites Host leaves clients
// sending Destination headers with the public name, which is accepted when
// configured; any other host is refused.
func TestDestinationBehindProxy(t *testing.T) {
	g := harness.StartDemo(t, "", "FALDONE_PUBLIC_HOSTS=archivio.bassareggiana.example")
	const d = "/guastalla/2019/PC-2019-0042"
	tests := []struct {
		dest string
		want int
	}{
		{"https://archivio.bassareggiana.example" + d + "/copia-1.pdf", http.StatusCreated},
		{"https://ARCHIVIO.bassareggiana.example" + d + "/copia-2.pdf", http.StatusCreated},
		{g.URL + d + "/copia-3.pdf", http.StatusCreated},
		{d + "/copia-4.pdf", http.StatusCreated},
		{"https://altro.example" + d + "/copia-5.pdf", http.StatusBadGateway},
	}
	for _, tt := range tests {
		code, _, _ := g.Status("COPY", d+"/domanda.pdf", map[string]string{"Destination": tt.dest}, "")
		if code != tt.want {
			t.Errorf("COPY to %s = %d, want %d", tt.dest, code, tt.want)
		}
	}
	if code, _, _ := g.Status("GET", d+"/copia-5.pdf", nil, ""); code != http.StatusNotFound {
		t.Errorf("refused COPY left a file (%d)", code)
	}
}

// TestClientSaveSequences replays how Windows Explorer, Office and AutoCAD
// save a file on a WebDAV drive (DESIGN.md section 5).
func TestClientSaveSequences(t *testing.T) {
	saveSequences(t, harness.StartDemo(t, ""))
}

// saveSequences runs the replays against any gateway that mounts guastalla.
func saveSequences(t *testing.T, g *harness.Gateway) {
	const d = "/guastalla/2019/PC-2019-0042"
	for _, dir := range []string{"/guastalla/2019", d} {
		if code, _, _ := g.Status("MKCOL", dir, nil, ""); code != http.StatusCreated && code != http.StatusMethodNotAllowed {
			t.Fatalf("MKCOL %s: %d", dir, code)
		}
	}
	lock := map[string]string{"Timeout": "Second-3600"}
	tests := []struct {
		name   string
		steps  []step
		finals map[string]string
	}{
		{
			name: "Windows Explorer",
			steps: []step{
				{"OPTIONS", "/", nil, "", 200, ""},
				{"OPTIONS", "/guastalla", nil, "", 200, ""},
				{"PROPFIND", d + "/", map[string]string{"Depth": "1"}, "", 207, ""},
				{"LOCK", d + "/verbale.txt", lock, lockExclusive, 201, "T1"},
				{"PUT", d + "/verbale.txt", map[string]string{"If": "(<{T1}>)"}, "", 204, ""},
				{"PROPPATCH", d + "/verbale.txt", map[string]string{"If": "(<{T1}>)"}, win32Props, 207, ""},
				{"PUT", d + "/verbale.txt", map[string]string{"If": "(<{T1}>)"}, "verbale di sopralluogo", 204, ""},
				{"UNLOCK", d + "/verbale.txt", map[string]string{"Lock-Token": "<{T1}>"}, "", 204, ""},
				// Saving again through a temporary file moved over the original.
				{"LOCK", d + "/verbale.txt", lock, lockExclusive, 200, "T2"},
				{"PUT", d + "/~WRL0001.tmp", nil, "verbale di sopralluogo, rev. 2", 201, ""},
				{"MOVE", d + "/~WRL0001.tmp", map[string]string{"Destination": g.URL + d + "/verbale.txt", "If": "<" + g.URL + d + "/verbale.txt> (<{T2}>)"}, "", 204, ""},
				{"UNLOCK", d + "/verbale.txt", map[string]string{"Lock-Token": "<{T2}>"}, "", 204, ""},
			},
			finals: map[string]string{d + "/verbale.txt": "verbale di sopralluogo, rev. 2"},
		},
		{
			name: "Office",
			steps: []step{
				{"PUT", d + "/computo.xlsx", nil, "prima versione", 201, ""},
				{"LOCK", d + "/computo.xlsx", lock, lockExclusive, 200, "T"},
				{"PUT", d + "/~$computo.xlsx", nil, "rossi", 201, ""},
				{"HEAD", d + "/", nil, "", 200, ""},
				{"DELETE", d + "/computo.xlsx", map[string]string{"If": "(<{T}>)"}, "", 204, ""},
				{"PUT", d + "/computo.xlsx", nil, "seconda versione", 201, ""},
				{"DELETE", d + "/~$computo.xlsx", nil, "", 204, ""},
			},
			finals: map[string]string{d + "/computo.xlsx": "seconda versione"},
		},
		{
			name: "Windows map drive and browse",
			steps: []step{
				{"OPTIONS", "/", map[string]string{"User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045"}, "", 200, ""},
				{"PROPFIND", "/", map[string]string{"Depth": "0"}, "", 207, ""},
				{"PROPFIND", "/guastalla", map[string]string{"Depth": "0"}, "", 207, ""},
				{"PROPFIND", "/guastalla/", map[string]string{"Depth": "1"}, "", 207, ""},
				{"PROPFIND", d + "/desktop.ini", map[string]string{"Depth": "0"}, "", 404, ""},
				{"PROPFIND", d + "/", map[string]string{"Depth": "1"}, "", 207, ""},
				{"GET", d + "/verbale.txt", nil, "", 200, ""},
			},
			finals: map[string]string{},
		},
		{
			name: "Windows drag and drop copy",
			steps: []step{
				{"PROPFIND", d + "/planimetria.pdf", map[string]string{"Depth": "0"}, "", 404, ""},
				{"PUT", d + "/planimetria.pdf", nil, "", 201, ""},
				{"LOCK", d + "/planimetria.pdf", lock, lockExclusive, 200, "T"},
				{"PUT", d + "/planimetria.pdf", map[string]string{"If": "(<{T}>)"}, "%PDF-1.4 planimetria", 204, ""},
				{"PROPPATCH", d + "/planimetria.pdf", map[string]string{"If": "(<{T}>)"}, win32Props, 207, ""},
				{"UNLOCK", d + "/planimetria.pdf", map[string]string{"Lock-Token": "<{T}>"}, "", 204, ""},
			},
			finals: map[string]string{d + "/planimetria.pdf": "%PDF-1.4 planimetria"},
		},
		{
			name: "macOS Finder save with AppleDouble",
			steps: []step{
				{"PROPFIND", d + "/._rilievo.jpg", map[string]string{"Depth": "0"}, "", 404, ""},
				{"LOCK", d + "/rilievo.jpg", lock, lockExclusive, 201, "T"},
				{"PUT", d + "/rilievo.jpg", map[string]string{"If": "(<{T}>)", "X-Expected-Entity-Length": "11"}, "foto rilevo", 204, ""},
				{"PUT", d + "/._rilievo.jpg", map[string]string{"X-Expected-Entity-Length": "9"}, "metadati!", 201, ""},
				{"PROPFIND", d + "/._rilievo.jpg", map[string]string{"Depth": "0"}, "", 207, ""},
				{"PUT", d + "/.DS_Store", nil, "Bud1", 201, ""},
				{"UNLOCK", d + "/rilievo.jpg", map[string]string{"Lock-Token": "<{T}>"}, "", 204, ""},
			},
			finals: map[string]string{d + "/rilievo.jpg": "foto rilevo", d + "/._rilievo.jpg": "metadati!", d + "/.DS_Store": "Bud1"},
		},
		{
			name: "davfs2 conditional writes",
			steps: []step{
				{"PUT", d + "/nota.txt", map[string]string{"If-None-Match": "*"}, "prima", 201, "etag:E1"},
				{"PUT", d + "/nota.txt", map[string]string{"If-None-Match": "*"}, "doppione", 412, ""},
				{"LOCK", d + "/nota.txt", lock, lockExclusive, 200, "T"},
				{"PUT", d + "/nota.txt", map[string]string{"If": "<" + g.URL + d + "/nota.txt> (<{T}>)", "If-Match": "{E1}"}, "seconda", 204, "etag:E2"},
				{"PUT", d + "/nota.txt", map[string]string{"If": "<" + g.URL + d + "/nota.txt> (<{T}>)", "If-Match": "{E1}"}, "vecchia", 412, ""},
				{"PUT", d + "/nota.txt", map[string]string{"If": "<" + g.URL + d + "/nota.txt> (<{T}> [{E2}])"}, "terza", 204, ""},
				{"UNLOCK", d + "/nota.txt", map[string]string{"Lock-Token": "<{T}>"}, "", 204, ""},
			},
			finals: map[string]string{d + "/nota.txt": "terza"},
		},
		{
			name: "AutoCAD",
			steps: []step{
				{"PUT", d + "/tavola-03.dwg", nil, "disegno v1", 201, ""},
				{"PUT", d + "/tavola-03.bak", nil, "disegno v0", 201, ""},
				// Open: lock the drawing, write the lock files.
				{"LOCK", d + "/tavola-03.dwg", lock, lockExclusive, 200, "T"},
				{"PUT", d + "/tavola-03.dwl", nil, "rossi@PC-UFFICIO", 201, ""},
				{"PUT", d + "/tavola-03.dwl2", nil, "<whoami>rossi</whoami>", 201, ""},
				// Another client cannot overwrite the drawing meanwhile.
				{"PUT", d + "/tavola-03.dwg", nil, "intruso", 423, ""},
				// Save: temp file, drop the old backup, rotate.
				{"PUT", d + "/tavola-03.tmp", nil, "disegno v2", 201, ""},
				{"DELETE", d + "/tavola-03.bak", nil, "", 204, ""},
				{"MOVE", d + "/tavola-03.dwg", map[string]string{"Destination": d + "/tavola-03.bak", "If": "(<{T}>)"}, "", 201, ""},
				{"MOVE", d + "/tavola-03.tmp", map[string]string{"Destination": d + "/tavola-03.dwg"}, "", 201, ""},
				// Close.
				{"DELETE", d + "/tavola-03.dwl", nil, "", 204, ""},
				{"DELETE", d + "/tavola-03.dwl2", nil, "", 204, ""},
			},
			finals: map[string]string{d + "/tavola-03.dwg": "disegno v2", d + "/tavola-03.bak": "disegno v1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, g, tt.steps)
			for p, want := range tt.finals {
				assertContent(t, g, p, want)
				assertDigest(t, g, p, want)
			}
			assertNoLocks(t, g, d+"/")
		})
	}
}
