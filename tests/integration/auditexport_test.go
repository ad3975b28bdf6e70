package integration

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

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
	header := rows[0]
	if header[len(header)-1] != "local_time" {
		t.Fatalf("header %q: want local_time last", header)
	}
	found := false
	for _, r := range rows[1:] {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("cell %q would be a formula in a spreadsheet", c)
			}
		}
		if r[7] == "'"+formula {
			found = true
			utc, err := time.Parse(time.RFC3339Nano, r[0])
			if err != nil {
				t.Fatalf("time %q: %v", r[0], err)
			}
			rome, _ := time.LoadLocation("Europe/Rome")
			if want := utc.In(rome).Format("02/01/2006 15:04:05"); r[len(r)-1] != want {
				t.Errorf("local_time %q, want %q (Europe/Rome)", r[len(r)-1], want)
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
