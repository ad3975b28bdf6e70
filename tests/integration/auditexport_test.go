package integration

import (
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestAuditExportSafeForSpreadsheets: a refused request without
// credentials whose Destination is a formula reaches the CSV exports as
// text, never as a formula cell; --excel is ';'-separated with a BOM; each
// record has its local time beside the UTC one.
func TestAuditExportSafeForSpreadsheets(t *testing.T) {
	g := harness.StartDemo(t, "")
	const formula = `=HYPERLINK("http://evil.example/","apri")`
	req, _ := http.NewRequest("MOVE", g.URL+"/guastalla/x.pdf", nil)
	req.Header.Set("Destination", formula)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("MOVE without credentials: %d, want 401", resp.StatusCode)
	}
	var out string
	for deadline := time.Now().Add(10 * time.Second); ; {
		out, err = faldone(t, "", "audit", "--csv", "--data", g.DataDir)
		if err == nil && strings.Contains(out, "HYPERLINK") || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("audit --csv: %v\n%.500s", err, out)
	}
	col := columns(t, rows[0], "time", "destination", "local_time")
	found := false
	for _, r := range rows[1:] {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("cell %q would be a formula in a spreadsheet", c)
			}
		}
		if r[col["destination"]] == "'"+formula {
			found = true
			utc, err := time.Parse(time.RFC3339Nano, r[col["time"]])
			if err != nil {
				t.Fatalf("time %q: %v", r[col["time"]], err)
			}
			rome, _ := time.LoadLocation("Europe/Rome")
			if want := utc.In(rome).Format("02/01/2006 15:04:05"); r[col["local_time"]] != want {
				t.Errorf("local_time %q, want %q (Europe/Rome)", r[col["local_time"]], want)
			}
		}
	}
	if !found {
		t.Fatalf("the refused MOVE's Destination is not in the export as text:\n%.1000s", out)
	}
	excel, err := faldone(t, "", "audit", "--excel", "--data", g.DataDir)
	if err != nil || !strings.HasPrefix(excel, "\ufefftime;request_id;") || !strings.Contains(excel, "\r\n") {
		t.Fatalf("audit --excel: %v\n%.300q", err, excel)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(excel, "\ufeff")))
	cr.Comma = ';'
	if rows, err := cr.ReadAll(); err != nil || len(rows) < 2 || !strings.Contains(excel, "'"+strings.ReplaceAll(formula, `"`, `""`)) {
		t.Fatalf("audit --excel does not read back as ';' CSV with the neutralized cell: %v\n%.500s", err, excel)
	}
}

// columns returns the index of each named column of a CSV header.
func columns(t *testing.T, header []string, names ...string) map[string]int {
	t.Helper()
	col := map[string]int{}
	for _, n := range names {
		i := slices.Index(header, n)
		if i < 0 {
			t.Fatalf("CSV header %q has no column %q", header, n)
		}
		col[n] = i
	}
	return col
}

// TestAuditOneRepresentation: a refused path with bytes that are not UTF-8
// has one form everywhere, U+FFFD in the store's export (valid UTF-8) as in
// audit.jsonl, and the request target as the client sent it is kept beside
// it, so that a refused %2e%2e shows as such.
func TestAuditOneRepresentation(t *testing.T) {
	g := harness.StartDemo(t, "")
	for _, target := range []string{"/guastalla/%c0%ae%c0%ae/segreto.txt", "/guastalla/%2e%2e/segreto.txt"} {
		if code := rawRequest(t, g, "GET", target, nil, ""); code != http.StatusBadRequest {
			t.Fatalf("GET %s: %d, want 400", target, code)
		}
	}
	var out string
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		out, err = faldone(t, "", "audit", "--csv", "--data", g.DataDir)
		if err == nil && strings.Contains(out, "%2e%2e") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !utf8.ValidString(out) {
		t.Fatalf("audit --csv is not valid UTF-8:\n%.800q", out)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := columns(t, rows[0], "path", "target", "status")
	want := map[string]string{ // target → path
		"/guastalla/%c0%ae%c0%ae/segreto.txt": "/guastalla/\ufffd\ufffd\ufffd\ufffd/segreto.txt",
		"/guastalla/%2e%2e/segreto.txt":       "/guastalla/../segreto.txt",
	}
	seen := 0
	for _, r := range rows[1:] {
		if p, ok := want[r[col["target"]]]; ok {
			seen++
			if r[col["path"]] != p || r[col["status"]] != "400" {
				t.Errorf("record of %s: path %+q status %s, want %+q 400", r[col["target"]], r[col["path"]], r[col["status"]], p)
			}
		}
	}
	if seen != len(want) {
		t.Fatalf("%d of the %d refused targets in the export:\n%.1500s", seen, len(want), out)
	}
	b, err := os.ReadFile(filepath.Join(g.DataDir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\"path\":\"/guastalla/\ufffd\ufffd\ufffd\ufffd/segreto.txt\",\"target\":\"/guastalla/%c0%ae%c0%ae/segreto.txt\"") {
		t.Errorf("audit.jsonl does not hold the same form:\n%s", b)
	}
}
