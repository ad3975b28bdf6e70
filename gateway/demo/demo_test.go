package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSeedNames: the sample documents name each Comune by its name, not by
// the id of its folder, whatever the name holds.
func TestSeedNames(t *testing.T) {
	for _, tt := range []struct {
		c    Comune
		want string // the text drawn on the PDF's page, as the PDF holds it
	}{
		{Comune{ID: "guastalla", Name: "Guastalla"}, "(Comune di Guastalla - pratica PC-2019-0042 - domanda)"},
		{Comune{ID: "sant-ilario", Name: "Sant'Ilario d'Enza (RE)"}, `(Comune di Sant'Ilario d'Enza \(RE\) - pratica PC-2019-0042 - domanda)`},
		{Comune{ID: "canossa", Name: "Canossà"}, `(Comune di Canoss\340 - pratica PC-2019-0042 - domanda)`},
		{Comune{ID: "luzzara"}, "(Comune di luzzara - pratica PC-2019-0042 - domanda)"},
	} {
		t.Run(tt.c.ID, func(t *testing.T) {
			root := t.TempDir()
			made, err := Seed(root, []Comune{tt.c})
			if err != nil {
				t.Fatal(err)
			}
			if len(made) != len(dossiers) {
				t.Errorf("%d records, want %d", len(made), len(dossiers))
			}
			pdf, err := os.ReadFile(filepath.Join(root, tt.c.ID, "2019", "PC-2019-0042", "domanda.pdf"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(pdf, []byte(tt.want)) {
				t.Errorf("the PDF does not show %s:\n%s", tt.want, pdf)
			}
		})
	}
}
