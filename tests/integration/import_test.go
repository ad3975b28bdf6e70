package integration

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// testDelivery writes a scanning firm's delivery: about 2,000 files in a
// tree of dossiers, two of them over 100 MB, accented and decomposed
// names, and a manifest with two wrong hashes, one file missing from the
// folder and one file the manifest does not list. It returns the folder,
// the manifest, every file's hash by relative path (composed), and the
// problems an import must report, as "percorso;problema".
func testDelivery(t *testing.T) (dir, manifest string, sums map[string][32]byte, problems []string) {
	t.Helper()
	dir = t.TempDir()
	sums = map[string][32]byte{}
	write := func(rel string, body []byte) {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var names []string
	for d := range 40 {
		dossier := fmt.Sprintf("PC-2019-%04d", d)
		if d%10 == 3 {
			dossier += " via Città" // composed
		}
		if d%10 == 7 {
			dossier += " piazza Liberta\u0300" // decomposed, as macOS writes it
		}
		for f := range 50 {
			rel := fmt.Sprintf("%s/tavola %02d è.pdf", dossier, f)
			if f%5 == 0 {
				rel = fmt.Sprintf("%s/scansioni/pagina-%03d.tif", dossier, f)
			}
			body := make([]byte, 512+rng.IntN(4096))
			for i := range body {
				body[i] = byte(rng.Uint32())
			}
			write(rel, body)
			names = append(names, rel)
			sums[nfc(rel)] = sha256.Sum256(body)
		}
	}
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(rng.Uint32())
	}
	for _, rel := range []string{"PC-2019-0001/scansioni/fascicolo completo.pdf", "PC-2019-0002/rilievo.tif"} {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		f, err := os.Create(full)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for i := range 101 {
			block[0] = byte(i)
			f.Write(block)
			h.Write(block)
		}
		f.Close()
		names = append(names, rel)
		sums[rel] = [32]byte(h.Sum(nil))
	}
	write("PC-2019-0005/nota del tecnico.txt", []byte("non nel manifesto"))
	problems = []string{
		"PC-2019-0005/nota del tecnico.txt;non nel manifesto",
		"PC-2019-0999/manca.pdf;mancante nella consegna",
	}

	var b strings.Builder
	b.WriteString("percorso;sha256;richiedente\r\n")
	for i, rel := range names {
		sum := sums[nfc(rel)]
		if i == 17 || i == 1234 { // two wrong hashes, in dossiers with composed names
			sum[0] ^= 0xff
			problems = append(problems, nfc(rel)+";impronta diversa")
			delete(sums, nfc(rel))
		}
		fmt.Fprintf(&b, "%s;%x;Rossi Mario\r\n", strings.ReplaceAll(nfc(rel), "/", `\`), sum)
	}
	fmt.Fprintf(&b, "PC-2019-0999\\manca.pdf;%x;Verdi\r\n", sha256.Sum256([]byte("manca")))
	for i, p := range problems {
		problems[i] = strings.ReplaceAll(p, "PC-2019-0999/manca.pdf", `PC-2019-0999\manca.pdf`)
	}
	slices.Sort(problems)
	manifest = filepath.Join(t.TempDir(), "indice.csv")
	if err := os.WriteFile(manifest, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, manifest, sums, problems
}

func nfc(s string) string { return strings.ReplaceAll(s, "a\u0300", "à") }

// readReport returns the report's rows as "percorso;problema", sorted.
func readReport(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff")))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], []string{"percorso", "problema", "dettaglio"}) {
		t.Fatalf("report header: %q", rows)
	}
	var out []string
	for _, row := range rows[1:] {
		out = append(out, row[0]+";"+row[1])
	}
	slices.Sort(out)
	return out
}

// TestImport: the test delivery into S3 (Guastalla) killed three times and
// resumed, and into a local Comune (Luzzara) in one run: both reports name
// exactly the delivery's problems, every other file is in storage with
// its bytes (faldone verify reads them all again), GET's Repr-Digest is
// the manifest's hash, and the crashes leave no multipart upload after the
// housekeeping.
func TestImport(t *testing.T) {
	dir, manifest, sums, problems := testDelivery(t)
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	yaml := fmt.Sprintf(`comuni:
  - id: guastalla
    storage: "s3://%s/guastalla?endpoint=%s&region=us-east-1&path_style=true"
    access_key_id: %s
    secret_access_key: %s
  - id: luzzara
webdav:
  stale_upload_age: 1s
`, bucket, srv.Endpoint, srv.AccessKey, srv.SecretKey)
	g := harness.StartServe(t, yaml)
	bin := harness.Binary(t)
	importArgs := func(comune, report string) []string {
		return []string{"import", "--config", g.ConfigFile(), "--data", g.DataDir, "--comune", comune,
			"--from", dir, "--to", "/2019", "--manifest", manifest, "--report", report, "--jobs", "4"}
	}

	// Luzzara, on disk, in one run.
	report := filepath.Join(t.TempDir(), "luzzara.csv")
	code, out, errOut := runCLI(t, bin, t.TempDir(), "", importArgs("luzzara", report)...)
	if code != 1 || !strings.Contains(out, "imported 2003 files") || !strings.Contains(out, "2000 new") {
		t.Fatalf("import into luzzara: exit %d\n%s\n%.3000s", code, out, errOut)
	}
	if got := readReport(t, report); !slices.Equal(got, problems) {
		t.Errorf("luzzara's report:\n%q\nwant\n%q", got, problems)
	}
	// The manifest's column of applicants completes the dossiers' records.
	if !strings.Contains(out, "dossier records completed from the manifest") {
		t.Errorf("the import says nothing of the catalogue:\n%s", out)
	}
	if a := cerca(t, g, url.Values{"q": {"Rossi Mario"}, "comune": {"luzzara"}}); a.Total == 0 || !strings.HasPrefix(a.Results[0].Path, "/luzzara/2019/PC-2019-") {
		t.Errorf("the manifest's applicant finds no dossier: %+v", a)
	}
	// In the access log: a record a file, with its SHA-256, and the batch's.
	_, log, _ := runCLI(t, bin, t.TempDir(), "", "audit", "--csv", "--config", g.ConfigFile(), "--data", g.DataDir, "--comune", "luzzara")
	if n := strings.Count(log, ",IMPORT,/luzzara/2019/"); n != 2003 || !strings.Contains(log, ",IMPORT-END,/luzzara/2019,") {
		t.Errorf("the access log has %d IMPORT records of luzzara, want 2003, and the batch's end:\n%.2000s", n, log)
	}
	big := sums["PC-2019-0002/rilievo.tif"]
	if !strings.Contains(log, fmt.Sprintf(",201,%d,", 101<<20)) || !strings.Contains(log, fmt.Sprintf("%x", big)) {
		t.Errorf("the access log lacks the big file's record with its SHA-256")
	}

	// Guastalla, on S3: killed three times part-way, then run to the end.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	for kills := 0; kills < 3; {
		cmd := exec.Command(bin, importArgs("guastalla", filepath.Join(t.TempDir(), "killed.csv"))...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if kills == 0 {
			// The first kill falls in a big file's multipart upload, which
			// it leaves open in the bucket.
			for deadline := time.Now().Add(30 * time.Second); openUploads(t, srv) == 0; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no multipart upload began")
				}
			}
		} else {
			time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		}
		kills++
		cmd.Process.Kill()
		cmd.Wait()
	}
	stored := 0
	filepath.WalkDir(filepath.Join(srv.Dir, bucket, "guastalla"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			stored++
		}
		return nil
	})
	t.Logf("after three kills, %d files of 2000 were in the bucket, %d multipart uploads open", stored, openUploads(t, srv))
	report = filepath.Join(t.TempDir(), "guastalla.csv")
	code, out, errOut = runCLI(t, bin, t.TempDir(), "", importArgs("guastalla", report)...)
	if code != 1 || !strings.Contains(out, "imported 2003 files") {
		t.Fatalf("import into guastalla after the kills: exit %d\n%s\n%.3000s", code, out, errOut)
	}
	if got := readReport(t, report); !slices.Equal(got, problems) {
		t.Errorf("guastalla's report after the kills:\n%q\nwant\n%q", got, problems)
	}
	// Once more: everything is there already.
	code, out, _ = runCLI(t, bin, t.TempDir(), "", importArgs("guastalla", filepath.Join(t.TempDir(), "again.csv"))...)
	if !strings.Contains(out, "0 new, 0 replaced, 2000 already there") {
		t.Errorf("a second import wrote again: exit %d\n%s", code, out)
	}

	// The same state in both: every file, read again, has its hash.
	for _, comune := range []string{"guastalla", "luzzara"} {
		code, out, errOut := runCLI(t, bin, t.TempDir(), "", "verify", "--config", g.ConfigFile(), "--data", g.DataDir, "--comune", comune)
		if code != 0 || !strings.Contains(out, "verified 2000 files") || !strings.Contains(out, "2000 intact") {
			t.Errorf("verify %s: exit %d\n%s\n%s", comune, code, out, errOut)
		}
	}
	checked := 0
	for rel, sum := range sums {
		if checked++; checked%97 != 0 && !strings.Contains(rel, "fascicolo") && !strings.Contains(rel, "rilievo") {
			continue // a sample, and the big ones
		}
		want := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
		for _, comune := range []string{"guastalla", "luzzara"} {
			code, _, h := g.Status("HEAD", "/"+comune+"/2019/"+rel, nil, "")
			if code != http.StatusOK || h.Get("Repr-Digest") != want {
				t.Errorf("HEAD /%s/2019/%s = %d, Repr-Digest %q, want the manifest's %q", comune, rel, code, h.Get("Repr-Digest"), want)
			}
		}
	}

	// What the kills left open, the next start's housekeeping aborts.
	time.Sleep(1100 * time.Millisecond) // older than stale_upload_age
	harness.StartServe(t, yaml)
	for deadline := time.Now().Add(20 * time.Second); openUploads(t, srv) != 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d multipart uploads still open after the housekeeping", openUploads(t, srv))
		}
	}
}
