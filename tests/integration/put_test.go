package integration

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// rawPut sends a PUT over a bare connection: the headers announce
// contentLength bytes, then only body is sent, and the connection is closed
// (abort) or half-closed (a client that sends less than it announced).
func rawPut(t *testing.T, g *harness.Gateway, path string, contentLength int, body []byte, halfClose bool) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	auth := base64.StdEncoding.EncodeToString([]byte(g.User + ":" + g.Pass))
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nContent-Length: %d\r\n\r\n",
		path, strings.TrimPrefix(g.URL, "http://"), auth, contentLength)
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	if halfClose {
		conn.(*net.TCPConn).CloseWrite()
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a short PUT: %v", err)
		}
		if resp.StatusCode < 400 {
			t.Errorf("short PUT answered %d, want an error", resp.StatusCode)
		}
		return
	}
	// Give the server time to read what was sent before the connection drops.
	time.Sleep(300 * time.Millisecond)
}

// TestInterruptedPutKeepsOldContent: a client that dies half-way through an
// overwrite, or sends fewer bytes than announced, leaves the old file intact
// byte for byte and no temporary file behind.
func TestInterruptedPutKeepsOldContent(t *testing.T) {
	g := harness.StartDemo(t, "")
	old := bytes.Repeat([]byte("contenuto originale della tavola\n"), 1<<15) // ~1 MiB
	if code, _, _ := g.Status("PUT", "/guastalla/tavola.dwg", nil, string(old)); code != http.StatusCreated {
		t.Fatalf("seed PUT: %d", code)
	}
	newBody := bytes.Repeat([]byte("N"), 4<<20)
	tests := []struct {
		name      string
		halfClose bool
	}{
		{"client killed half-way", false},
		{"fewer bytes than Content-Length", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rawPut(t, g, "/guastalla/tavola.dwg", len(newBody), newBody[:len(newBody)/2], tt.halfClose)
			deadline := time.Now().Add(10 * time.Second)
			for {
				// The server aborts the upload when it notices; wait for the temp file to go.
				if len(tempFiles(t, g.Archive("guastalla"))) == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if tf := tempFiles(t, g.Archive("guastalla")); len(tf) > 0 {
				t.Errorf("temporary files left: %v", tf)
			}
			code, got, _ := g.Status("GET", "/guastalla/tavola.dwg", nil, "")
			if code != http.StatusOK || got != string(old) {
				t.Fatalf("after interrupted PUT: status %d, %d bytes; want the old %d bytes", code, len(got), len(old))
			}
			onDisk, err := os.ReadFile(filepath.Join(g.Archive("guastalla"), "tavola.dwg"))
			if err != nil || !bytes.Equal(onDisk, old) {
				t.Fatalf("file on disk changed (%v)", err)
			}
			code, listing, _ := g.Status("PROPFIND", "/guastalla/", map[string]string{"Depth": "1"}, "")
			if code != 207 || strings.Contains(listing, "faldone-upload") {
				t.Errorf("listing shows a temporary upload (status %d)", code)
			}
		})
	}
}

func tempFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".faldone-upload-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestLockSurvivesRestart: locks live in the state store, not in memory.
func TestLockSurvivesRestart(t *testing.T) {
	g := harness.StartDemo(t, "")
	const lockBody = `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>geom. Rossi</D:owner></D:lockinfo>`
	code, _, h := g.Status("LOCK", "/guastalla/2019/PC-2019-0042/domanda.pdf", map[string]string{"Timeout": "Second-3600"}, lockBody)
	if code != http.StatusOK {
		t.Fatalf("LOCK: %d", code)
	}
	token := h.Get("Lock-Token")
	if !strings.HasPrefix(token, "<urn:uuid:") {
		t.Fatalf("Lock-Token %q", token)
	}
	g.Restart()
	if code, _, _ := g.Status("PUT", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, "nuovo"); code != http.StatusLocked {
		t.Fatalf("PUT without token after restart: %d, want 423", code)
	}
	if code, _, _ := g.Status("PUT", "/guastalla/2019/PC-2019-0042/domanda.pdf", map[string]string{"If": "(" + token + ")"}, "nuovo"); code != http.StatusNoContent {
		t.Fatalf("PUT with token after restart: %d, want 204", code)
	}
	if code, body, _ := g.Status("GET", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, ""); code != 200 || body != "nuovo" {
		t.Fatalf("GET after locked PUT: %d %q", code, body)
	}
	if code, _, _ := g.Status("UNLOCK", "/guastalla/2019/PC-2019-0042/domanda.pdf", map[string]string{"Lock-Token": token}, ""); code != http.StatusNoContent {
		t.Fatalf("UNLOCK: %d", code)
	}
	if code, _, _ := g.Status("PUT", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, "libero"); code != http.StatusNoContent {
		t.Fatalf("PUT after UNLOCK: %d", code)
	}
}
