package importer_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/archive/importer"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends/local"
	"github.com/bassareggiana/faldone/state/sqlite"
)

type allowAll struct{}

func (allowAll) Decide(access.Action, string) access.Verdict { return access.Allow }

// delivery writes a delivery folder: files by relative path.
func delivery(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type fixture struct {
	disk string
	svc  *archive.Service
}

func newFixture(t *testing.T) *fixture {
	disk := t.TempDir()
	os.MkdirAll(filepath.Join(disk, "guastalla"), 0o755)
	fs, err := local.New(disk)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{disk: disk, svc: archive.New(fs, st, archive.Options{})}
}

func (f *fixture) run(t *testing.T, opts importer.Options) ([]string, importer.Summary) {
	t.Helper()
	var problems []string
	opts.Problem = func(p importer.Problem) {
		if p.Detail == "" {
			t.Errorf("%s %s: no detail", p.Kind, p.Path)
		}
		problems = append(problems, string(p.Kind)+": "+p.Path)
	}
	sum, err := importer.Run(t.Context(), f.svc, archive.Caller{Principal: "cli", Policy: allowAll{}}, opts, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	slices.Sort(problems)
	return problems, sum
}

func (f *fixture) stored(rel string) string {
	b, err := os.ReadFile(filepath.Join(f.disk, filepath.FromSlash(rel)))
	if err != nil {
		return "<none>"
	}
	return string(b)
}

// TestImportWithManifest: the acceptance delivery in small — accented and
// decomposed names, a manifest in Windows-1252 with ";", two wrong hashes,
// one missing file, one extra file, a name Windows cannot open — imported,
// then imported again.
func TestImportWithManifest(t *testing.T) {
	files := map[string]string{
		"PC-2019-0042/domanda.pdf":                   "%PDF domanda",
		"PC-2019-0042/tavole/pianta piano terra.dwg": "linee",
		"PC-2019-0042/relazione è già pronta.pdf":    "relazione",
		"PC-2019-0043/perizia.pdf":                   "perizia", // wrong hash in the manifest
		"PC-2019-0043/foto.jpg":                      "foto",    // wrong hash in the manifest
		"PC-2019-0043/extra.txt":                     "extra",   // not in the manifest
		"PC-2019-0044/Citta\u0300.pdf":               "città",   // decomposed
		"PC-2019-0044/CON.pdf":                       "riservato",
	}
	dir := delivery(t, files)
	hash := func(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }
	var csv strings.Builder
	csv.WriteString("percorso;sha256;richiedente\r\n")
	for _, rel := range []string{"PC-2019-0042/domanda.pdf", "PC-2019-0042/tavole/pianta piano terra.dwg", "PC-2019-0042/relazione è già pronta.pdf", "PC-2019-0044/Città.pdf", "PC-2019-0044/CON.pdf"} {
		body := files[rel]
		if rel == "PC-2019-0044/Città.pdf" {
			body = files["PC-2019-0044/Citta\u0300.pdf"]
		}
		fmt.Fprintf(&csv, "%s;%s;Rossi Mario\r\n", strings.ReplaceAll(rel, "/", `\`), hash(body))
	}
	fmt.Fprintf(&csv, "PC-2019-0043/perizia.pdf;%s;Bianchi\r\n", hash("altro"))
	fmt.Fprintf(&csv, "PC-2019-0043/foto.jpg;%s;Bianchi\r\n", hash("altra foto"))
	fmt.Fprintf(&csv, "PC-2019-0045/manca.pdf;%s;Verdi\r\n", hash("manca"))
	enc, err := charmap.Windows1252.NewEncoder().String(csv.String())
	if err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(t.TempDir(), "indice.csv")
	os.WriteFile(mpath, []byte(enc), 0o644)
	m, err := importer.ReadManifest(mpath)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Rows["PC-2019-0042/domanda.pdf"].Columns["richiedente"]; got != "Rossi Mario" {
		t.Errorf("the other columns are kept: %q", got)
	}

	wantProblems := []string{
		"impronta diversa: PC-2019-0043/foto.jpg",
		"impronta diversa: PC-2019-0043/perizia.pdf",
		"mancante nella consegna: PC-2019-0045/manca.pdf",
		"nome non valido: PC-2019-0044/CON.pdf",
		"non nel manifesto: PC-2019-0043/extra.txt",
	}
	f := newFixture(t)
	opts := importer.Options{From: dir, Root: "/guastalla/2019", Manifest: m, Jobs: 3}

	// A dry run finds the same problems and writes nothing.
	dry := opts
	dry.DryRun = true
	problems, sum := f.run(t, dry)
	if !slices.Equal(problems, wantProblems) || sum.Plans != 4 {
		t.Errorf("dry run: %q, %d planned", problems, sum.Plans)
	}
	if _, err := os.Stat(filepath.Join(f.disk, "guastalla/2019")); err == nil {
		t.Error("the dry run made folders")
	}

	problems, sum = f.run(t, opts)
	if !slices.Equal(problems, wantProblems) {
		t.Errorf("problems:\n%q\nwant\n%q", problems, wantProblems)
	}
	if sum.Imported != 4 || sum.OK() {
		t.Errorf("summary %+v", sum)
	}
	for rel, want := range map[string]string{
		"guastalla/2019/PC-2019-0042/domanda.pdf":                   "%PDF domanda",
		"guastalla/2019/PC-2019-0042/tavole/pianta piano terra.dwg": "linee",
		"guastalla/2019/PC-2019-0044/Città.pdf":                     "città",
		"guastalla/2019/PC-2019-0043/perizia.pdf":                   "<none>",
		"guastalla/2019/PC-2019-0043/extra.txt":                     "<none>",
		"guastalla/2019/PC-2019-0044/CON.pdf":                       "<none>",
	} {
		if got := f.stored(rel); got != want {
			t.Errorf("%s holds %q, want %q", rel, got, want)
		}
	}
	// Each imported file has the manifest's SHA-256.
	op := f.svc.Begin(t.Context(), archive.Caller{Policy: allowAll{}})
	e, err := op.Info("/guastalla/2019/PC-2019-0042/domanda.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := op.Digest(e); !ok || fmt.Sprintf("%x", got) != hash("%PDF domanda") {
		t.Errorf("digest of an imported file: %x, %v", got, ok)
	}

	// Again: nothing is written twice; the problems stay.
	problems, sum = f.run(t, opts)
	if !slices.Equal(problems, wantProblems) || sum.Present != 4 || sum.Imported != 0 {
		t.Errorf("second run: %q, %+v", problems, sum)
	}
}

// TestImportWithoutManifest: the files' own hashes are recorded; a
// destination with other content is kept unless --replace; a file left
// without its digest (a write killed before it) is recognised by its bytes.
func TestImportWithoutManifest(t *testing.T) {
	dir := delivery(t, map[string]string{"a/uno.pdf": "uno", "a/due.pdf": "due", "b/tre.pdf": "tre"})
	os.MkdirAll(filepath.Join(dir, "vuota"), 0o755)
	f := newFixture(t)
	// Already in the archive: one with other content, one with the same
	// bytes but no recorded digest.
	os.MkdirAll(filepath.Join(f.disk, "guastalla/a"), 0o755)
	os.WriteFile(filepath.Join(f.disk, "guastalla/a/uno.pdf"), []byte("vecchio"), 0o644)
	os.WriteFile(filepath.Join(f.disk, "guastalla/a/due.pdf"), []byte("due"), 0o644)
	opts := importer.Options{From: dir, Root: "/guastalla"}
	problems, sum := f.run(t, opts)
	if want := []string{"già presente con contenuto diverso: a/uno.pdf"}; !slices.Equal(problems, want) {
		t.Errorf("problems %q, want %q", problems, want)
	}
	if sum.Imported != 1 || sum.Present != 1 || f.stored("guastalla/a/uno.pdf") != "vecchio" {
		t.Errorf("summary %+v, uno.pdf %q", sum, f.stored("guastalla/a/uno.pdf"))
	}
	if info, err := os.Stat(filepath.Join(f.disk, "guastalla/vuota")); err != nil || !info.IsDir() {
		t.Errorf("the empty folder was not made: %v", err)
	}
	opts.Replace = true
	problems, sum = f.run(t, opts)
	if len(problems) != 0 || sum.Replaced != 1 || sum.Present != 2 || f.stored("guastalla/a/uno.pdf") != "uno" {
		t.Errorf("with Replace: %q, %+v, uno.pdf %q", problems, sum, f.stored("guastalla/a/uno.pdf"))
	}
}
