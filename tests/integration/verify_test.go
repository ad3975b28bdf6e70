package integration

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// lineWith returns the first line of s that contains sub, "" if none.
func lineWith(s, sub string) string {
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			return strings.TrimRight(l, "\r\n")
		}
	}
	return ""
}

// TestVerify: files written through the gateway, on S3 (Guastalla) and on
// disk (Luzzara), are proved intact; a file changed behind the gateway in
// either is reported, with a non-zero exit; --fill gives a tree stored by
// another tool its digests, which GET then shows.
func TestVerify(t *testing.T) {
	g, srv, _ := s3Gateway(t)
	bin := harness.Binary(t)
	verify := func(args ...string) (int, string) {
		t.Helper()
		code, out, errOut := runCLI(t, bin, t.TempDir(), "", append([]string{"verify", "--config", g.ConfigFile(), "--data", g.DataDir}, args...)...)
		return code, out + errOut
	}
	files := map[string]string{
		"/guastalla/2019/PC-2019-0001/domanda.pdf": "%PDF-1.7 domanda",
		"/guastalla/2019/PC-2019-0001/tavola.dwg":  "linee e quote",
		"/luzzara/2020/PC-2020-0007/relazione.pdf": "%PDF-1.7 relazione",
		"/luzzara/2020/PC-2020-0007/foto.jpg":      "jpeg",
	}
	for _, dir := range []string{"/guastalla/2019", "/guastalla/2019/PC-2019-0001", "/luzzara/2020", "/luzzara/2020/PC-2020-0007"} {
		if code, _, _ := g.Status("MKCOL", dir, nil, ""); code != http.StatusCreated {
			t.Fatalf("MKCOL %s: %d", dir, code)
		}
	}
	for p, body := range files {
		if code, _, _ := g.Status("PUT", p, nil, body); code != http.StatusCreated {
			t.Fatalf("PUT %s: %d", p, code)
		}
	}
	// The access log records each write's SHA-256.
	const want = "PUT,/guastalla/2019/PC-2019-0001/tavola.dwg,,guastalla,201,13,"
	putSum := fmt.Sprintf("%x", sha256.Sum256([]byte("linee e quote")))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, out, _ := runCLI(t, bin, t.TempDir(), "", "audit", "--csv", "--config", g.ConfigFile(), "--data", g.DataDir)
		if line := lineWith(out, want); strings.HasSuffix(line, ","+putSum) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the access log has no PUT record ending with the SHA-256 %s: %q\n%s", putSum, line, out)
		}
	}
	if code, out := verify(); code != 0 || !strings.Contains(out, "verified 4 files") || !strings.Contains(out, "4 intact") {
		t.Fatalf("verify of an intact archive: exit %d\n%s", code, out)
	}

	// Copies and moves carry the digest, on S3 and on disk, a file at a
	// time and a folder at a time.
	for _, c := range []struct{ method, from, to, file, body string }{
		{"COPY", "/guastalla/2019/PC-2019-0001/domanda.pdf", "/guastalla/2019/copia.pdf", "/guastalla/2019/copia.pdf", "%PDF-1.7 domanda"},
		{"MOVE", "/guastalla/2019/copia.pdf", "/guastalla/2019/spostata.pdf", "/guastalla/2019/spostata.pdf", "%PDF-1.7 domanda"},
		{"COPY", "/guastalla/2019/PC-2019-0001/", "/guastalla/2019/PC-2019-0001-copia/", "/guastalla/2019/PC-2019-0001-copia/tavola.dwg", "linee e quote"},
		{"MOVE", "/guastalla/2019/PC-2019-0001-copia/", "/guastalla/2019/PC-2019-0002/", "/guastalla/2019/PC-2019-0002/tavola.dwg", "linee e quote"},
		{"COPY", "/luzzara/2020/PC-2020-0007/", "/luzzara/2020/PC-2020-0008/", "/luzzara/2020/PC-2020-0008/relazione.pdf", "%PDF-1.7 relazione"},
		{"MOVE", "/luzzara/2020/PC-2020-0008/relazione.pdf", "/luzzara/2020/relazione.pdf", "/luzzara/2020/relazione.pdf", "%PDF-1.7 relazione"},
	} {
		if code, _, _ := g.Status(c.method, c.from, map[string]string{"Destination": g.URL + c.to}, ""); code != http.StatusCreated {
			t.Fatalf("%s %s: %d", c.method, c.from, code)
		}
		sum := sha256.Sum256([]byte(c.body))
		_, _, h := g.Status("HEAD", c.file, nil, "")
		if got, want := h.Get("Repr-Digest"), "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":"; got != want {
			t.Errorf("after %s %s: Repr-Digest of %s %q, want %q", c.method, c.from, c.file, got, want)
		}
	}
	// Uploads from the pages, into S3 and onto the disk.
	page := harness.NewBrowser(t, g)
	page.SignIn(g.User, g.Pass)
	for _, dir := range []string{"/guastalla/2019", "/luzzara/2020"} {
		if code, _ := page.Upload("/_/carica"+dir, map[string][]byte{"caricata.pdf": []byte("%PDF dalla pagina")}); code != http.StatusOK {
			t.Fatalf("page upload into %s: %d", dir, code)
		}
		sum := sha256.Sum256([]byte("%PDF dalla pagina"))
		_, _, h := g.Status("HEAD", dir+"/caricata.pdf", nil, "")
		if got, want := h.Get("Repr-Digest"), "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":"; got != want {
			t.Errorf("page upload into %s: Repr-Digest %q, want %q", dir, got, want)
		}
	}
	if code, out := verify(); code != 0 || !strings.Contains(out, "verified 11 files") {
		t.Fatalf("verify after the copies and moves: exit %d\n%s", code, out)
	}

	// Changed behind the gateway: in the bucket's folder, and on the disk.
	for _, f := range []string{
		filepath.Join(srv.Dir, bucket, "guastalla/2019/PC-2019-0001/tavola.dwg"),
		filepath.Join(g.Archive("luzzara"), "2020/PC-2020-0007/foto.jpg"),
	} {
		if err := os.WriteFile(f, []byte("cambiato da un altro programma"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out := verify()
	for _, want := range []string{"changed\t/guastalla/2019/PC-2019-0001/tavola.dwg\t", "changed\t/luzzara/2020/PC-2020-0007/foto.jpg\t", "2 changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify after changes lacks %q:\n%s", want, out)
		}
	}
	if code == 0 {
		t.Errorf("verify found changes and exited 0:\n%s", out)
	}
	if code, out := verify("--comune", "luzzara"); code == 0 || strings.Contains(out, "/guastalla/") {
		t.Errorf("verify --comune luzzara: exit %d\n%s", code, out)
	}

	// A tree stored by another tool: unknown, then filled.
	seed(t, srv, "guastalla/2018", 3)
	code, out = verify("--path", "/guastalla/2018")
	if code == 0 || strings.Count(out, "unknown\t/guastalla/2018/") != 3 {
		t.Errorf("verify of a tree without digests: exit %d\n%s", code, out)
	}
	if code, out := verify("--path", "/guastalla/2018", "--fill"); code != 0 || !strings.Contains(out, "3 filled") {
		t.Errorf("verify --fill: exit %d\n%s", code, out)
	}
	if code, out := verify("--path", "/guastalla/2018"); code != 0 || !strings.Contains(out, "3 intact") {
		t.Errorf("verify after --fill: exit %d\n%s", code, out)
	}
	name := "PC-2019-0000.pdf" // seed's first file
	sum := sha256.Sum256([]byte("pratica " + name))
	_, _, h := g.Status("HEAD", "/guastalla/2018/"+name, nil, "")
	if got, want := h.Get("Repr-Digest"), "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":"; got != want {
		t.Errorf("Repr-Digest of a filled file: %q, want %q", got, want)
	}

	// A file removed behind the gateway.
	if err := os.Remove(filepath.Join(srv.Dir, bucket, "guastalla/2019/PC-2019-0001/domanda.pdf")); err != nil {
		t.Fatal(err)
	}
	if code, out := verify("--path", "/guastalla/2019"); code == 0 || !strings.Contains(out, "missing\t/guastalla/2019/PC-2019-0001/domanda.pdf\t") {
		t.Errorf("verify after a removal: exit %d\n%s", code, out)
	}
	if code, out := verify("--comune", "nessuno"); code == 0 || !strings.Contains(out, `no Comune "nessuno"`) {
		t.Errorf("verify of an unknown Comune: exit %d\n%s", code, out)
	}
}

// TestScrub: serve with a scrub every few seconds finds a file changed
// behind it, on S3 (Guastalla) and on disk (Luzzara): a log line for
// each, and the counts at /metrics.
func TestScrub(t *testing.T) {
	g, srv, _ := s3Gateway(t, "metrics_allow: [127.0.0.1]\nintegrity:\n  scrub_interval: 2s\n  scrub_rate: 50\n")
	for _, dir := range []string{"/guastalla/2019", "/luzzara/2020"} {
		mustStatus(t, g, "MKCOL", dir, nil, "", http.StatusCreated)
	}
	for _, p := range []string{"/guastalla/2019/tavola.dwg", "/guastalla/2019/domanda.pdf", "/luzzara/2020/foto.jpg", "/luzzara/2020/relazione.pdf"} {
		mustStatus(t, g, "PUT", p, nil, "contenuto di "+p, http.StatusCreated)
	}
	for _, f := range []string{
		filepath.Join(srv.Dir, bucket, "guastalla/2019/tavola.dwg"),
		filepath.Join(g.Archive("luzzara"), "2020/foto.jpg"),
	} {
		if err := os.WriteFile(f, []byte("cambiato da un altro programma"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Stored by another tool: no digest, which a scrub does not record.
	if err := os.WriteFile(filepath.Join(g.Archive("luzzara"), "2020/nuovo.pdf"), []byte("nuovo"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := []*regexp.Regexp{
		regexp.MustCompile(`level=WARN msg="scrub: file not proved intact" comune=luzzara path=/luzzara/2020/nuovo.pdf kind=unknown detail="[^"]+"`),
		regexp.MustCompile(`level=ERROR msg="scrub: file not proved intact" comune=guastalla path=/guastalla/2019/tavola.dwg kind=changed detail="[^"]+"`),
		regexp.MustCompile(`level=ERROR msg="scrub: file not proved intact" comune=luzzara path=/luzzara/2020/foto.jpg kind=changed detail="[^"]+"`),
	}
	found := func() bool {
		for _, re := range lines {
			if !re.MatchString(g.Log()) {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(30 * time.Second); !found() && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	if !found() {
		t.Fatalf("no scrub line for each changed file:\n%s", g.Log())
	}
	for _, p := range []string{"/guastalla/2019/domanda.pdf", "/luzzara/2020/relazione.pdf"} {
		if strings.Contains(g.Log(), "path="+p+" kind=") {
			t.Errorf("an intact file reported:\n%s", g.Log())
		}
	}
	code, body := get(t, http.DefaultClient, g.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`faldone_scrub_problems_total\{comune="guastalla",kind="changed"\} [1-9]`,
		`faldone_scrub_problems_total\{comune="luzzara",kind="changed"\} [1-9]`,
		`faldone_scrub_problems_total\{comune="luzzara",kind="unknown"\} [1-9]`,
		`faldone_scrub_problems_total\{comune="luzzara",kind="missing"\} 0`,
		`faldone_scrub_files_total\{comune="luzzara"\} [1-9]`,
		`faldone_scrub_bytes_total\{comune="guastalla"\} [1-9]`,
		`faldone_scrub_last_pass_end_timestamp_seconds\{comune="luzzara"\} \d`,
		`faldone_scrub_last_pass_duration_seconds\{comune="guastalla"\} \d`,
	} {
		if !regexp.MustCompile(want).MatchString(body) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// A scrub reports, and records nothing.
	for _, p := range []string{"/luzzara/2020/foto.jpg", "/luzzara/2020/nuovo.pdf"} {
		if _, _, h := g.Status("HEAD", p, nil, ""); h.Get("Repr-Digest") != "" {
			t.Errorf("%s has a Repr-Digest after the scrub: %q", p, h.Get("Repr-Digest"))
		}
	}
}
