package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// treeDigest summarises every file and folder under root, so a test can
// assert that a request changed nothing on disk.
func treeDigest(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		// The state store and the access log (its JSON lines and its spool)
		// record every request, refusals included.
		if rel == "faldone.db" || strings.HasPrefix(rel, "faldone.db-") || rel == "audit.jsonl" {
			return nil
		}
		if rel == "audit-spool" {
			return fs.SkipDir
		}
		if d.IsDir() {
			lines = append(lines, "d "+rel)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		lines = append(lines, "f "+rel+" "+hex.EncodeToString(sum[:]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// rawRequest sends a request line as written, bypassing any client-side
// path cleaning, and returns the status.
func rawRequest(t *testing.T, g *harness.Gateway, method, target string, headers map[string]string, body string) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	req, err := http.NewRequest(method, g.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = target // sent verbatim on the request line
	req.SetBasicAuth(g.User, g.Pass)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufioReader(conn), req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, leak := range []string{"goroutine ", ".go:", g.DataDir, "no such file"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("%s %s: response body leaks %q: %s", method, target, leak, b)
		}
	}
	return resp.StatusCode
}

func TestBadInput(t *testing.T) {
	g := harness.StartDemo(t, "")
	// A file outside the archive that a traversal would reach.
	outside := filepath.Join(g.DataDir, "segreto.txt")
	if err := os.WriteFile(outside, []byte("riservato"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := "<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\"><D:prop>" + strings.Repeat("<D:getetag/>", 100000) + "</D:prop></D:propfind>"
	tests := []struct {
		name    string
		method  string
		target  string
		headers map[string]string
		body    string
		want    int
	}{
		{"dot-dot", "GET", "/guastalla/../segreto.txt", nil, "", 400},
		{"dot-dot PUT", "PUT", "/guastalla/../segreto.txt", nil, "x", 400},
		{"encoded dot-dot", "GET", "/guastalla/%2e%2e/segreto.txt", nil, "", 400},
		{"encoded dot-dot upper", "DELETE", "/guastalla/%2E%2E/segreto.txt", nil, "", 400},
		{"encoded slash", "PUT", "/guastalla%2f..%2fsegreto.txt", nil, "x", 400},
		{"encoded slash in name", "MKCOL", "/guastalla/a%2fb", nil, "", 400},
		{"NUL", "PUT", "/guastalla/a%00b", nil, "x", 400},
		{"backslash", "PUT", "/guastalla/..%5csegreto.txt", nil, "x", 400},
		{"raw backslash", "GET", `/guastalla/..\segreto.txt`, nil, "", 400},
		{"double slash", "PUT", "/guastalla//x.txt", nil, "x", 400},
		{"dot-dot destination", "COPY", "/guastalla/2019/PC-2019-0042/domanda.pdf", map[string]string{"Destination": "/guastalla/../x.pdf"}, "", 400},
		{"encoded destination", "MOVE", "/guastalla/2019/PC-2019-0042/domanda.pdf", map[string]string{"Destination": "/guastalla/%2e%2e/x.pdf"}, "", 400},
		{"foreign destination host", "MOVE", "/guastalla/2019/PC-2019-0042/domanda.pdf", map[string]string{"Destination": "http://evil.example/guastalla/x.pdf"}, "", 502},
		{"malformed propfind", "PROPFIND", "/guastalla/", map[string]string{"Depth": "1"}, "<D:propfind xmlns:D=\"DAV:\"><D:prop>", 400},
		{"not XML", "PROPPATCH", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, "ciao", 400},
		{"wrong root element", "LOCK", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, "<x xmlns=\"DAV:\"/>", 400},
		{"XML body over 1 MiB", "PROPFIND", "/guastalla/", map[string]string{"Depth": "1"}, big, 413},
		{"XML body over 1 MiB PROPPATCH", "PROPPATCH", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, big, 413},
		{"malformed If", "PUT", "/guastalla/2019/PC-2019-0042/domanda.pdf", map[string]string{"If": "(<urn:x>"}, "x", 400},
		{"unsupported method", "PATCH", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, "x", 405},
		{"infinite depth", "PROPFIND", "/guastalla/", map[string]string{"Depth": "infinity"}, "", 403},
		{"MKCOL with body", "MKCOL", "/guastalla/nuova", nil, "<x/>", 415},
		{"PUT at the root", "PUT", "/nuovo.txt", nil, "x", 403},
		{"MKCOL at the root", "MKCOL", "/nuovo", nil, "", 403},
		{"DELETE a Comune", "DELETE", "/guastalla", nil, "", 403},
		{"PUT into missing folder", "PUT", "/guastalla/nessuna/x.txt", nil, "x", 409},
	}
	before := treeDigest(t, g.DataDir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawRequest(t, g, tt.method, tt.target, tt.headers, tt.body); got != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.target, got, tt.want)
			}
			if after := treeDigest(t, g.DataDir); after != before {
				t.Errorf("%s %s changed the data folder", tt.method, tt.target)
			}
		})
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "riservato" {
		t.Errorf("file outside the archive touched: %q %v", b, err)
	}
	code, _, h := g.Status("PATCH", "/guastalla/", nil, "")
	if code != 405 || !strings.Contains(h.Get("Allow"), "PROPFIND") {
		t.Errorf("PATCH: %d, Allow %q", code, h.Get("Allow"))
	}
	code, body, _ := g.Status("PROPFIND", "/guastalla/", map[string]string{"Depth": "infinity"}, "")
	if code != 403 || !strings.Contains(body, "propfind-finite-depth") {
		t.Errorf("Depth infinity: %d %s", code, body)
	}
	if log := g.Log(); !strings.Contains(log, "status=400") || !strings.Contains(log, "status=413") {
		t.Errorf("bad requests were not logged")
	}
}
