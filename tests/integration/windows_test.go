package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestWindowsListing: Windows' WebClient lists folders with allprop and
// gives up on answers above 1,000,000 bytes (FileAttributesLimitInBytes);
// a 2,000-entry year folder stays below. The Win32 times it sets with
// PROPPATCH are kept and shown as the modification time.
func TestWindowsListing(t *testing.T) {
	g := harness.StartDemo(t, "")
	dir := filepath.Join(g.Archive("guastalla"), "2018")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		os.Mkdir(filepath.Join(dir, fmt.Sprintf("PC-2018-%04d", i)), 0o755)
		name := fmt.Sprintf("SCIA-2018-%04d-tavola-03-pianta-piano-terra.dwg", i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte("disegno"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	winProps := `<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:prop>` +
		`<D:getlastmodified/><D:getcontentlength/><D:resourcetype/><D:creationdate/><D:getetag/>` +
		`<Z:Win32FileAttributes/><Z:Win32CreationTime/><Z:Win32LastAccessTime/><Z:Win32LastModifiedTime/></D:prop></D:propfind>`
	for name, body := range map[string]string{"allprop (empty body)": "", "Win32 properties": winProps} {
		code, resp, _ := g.Status("PROPFIND", "/guastalla/2018/", map[string]string{"Depth": "1", "User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045"}, body)
		if code != 207 || strings.Count(resp, "<response>") != 2001 {
			t.Fatalf("%s: %d, %d responses", name, code, strings.Count(resp, "<response>"))
		}
		// Windows' own request is the empty one (DESIGN.md section 5).
		if body == "" && len(resp) >= 1_000_000 {
			t.Errorf("%s: a 2,000-entry listing is %d bytes, Windows' limit is 1,000,000", name, len(resp))
		}
		t.Logf("%s: %d bytes for 2,000 entries", name, len(resp))
	}
	// Windows saves a file, then sets its times.
	f := "/guastalla/2018/SCIA-2018-0007-tavola-03-pianta-piano-terra.dwg"
	if code, body, _ := g.Status("PROPPATCH", f, nil, win32Props); code != 207 || !strings.Contains(body, "200 OK") {
		t.Fatalf("PROPPATCH of Win32 properties: %d\n%s", code, body)
	}
	code, body, _ := g.Status("PROPFIND", f, map[string]string{"Depth": "0"}, winProps)
	if code != 207 || !strings.Contains(body, "<getlastmodified>Wed, 25 Nov 2026 10:00:00 GMT</getlastmodified>") || !strings.Contains(body, "00000020") {
		t.Errorf("after PROPPATCH: %d\n%s", code, body)
	}
	// And the listing too.
	_, body, _ = g.Status("PROPFIND", "/guastalla/2018/", map[string]string{"Depth": "1"}, "")
	i := strings.Index(body, "SCIA-2018-0007")
	if i < 0 || !strings.Contains(body[i:i+600], "Wed, 25 Nov 2026 10:00:00 GMT") {
		t.Errorf("the listing does not show Windows' modification time")
	}
}
